//! The HTTPS listener's certificate (issue 14): PEM files named in `server.tls_cert` and
//! `server.tls_key`, read at start and again on SIGHUP (a renewed certificate is served to new
//! connections without a restart; a reload that fails keeps the old one and says why).

use std::path::Path;
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The current TLS configuration, swapped whole on reload.
pub struct TlsSource {
    current: RwLock<Arc<rustls::ServerConfig>>,
}

impl TlsSource {
    pub fn load(cert: &Path, key: &Path) -> Result<TlsSource, String> {
        Ok(TlsSource {
            current: RwLock::new(server_config(cert, key)?),
        })
    }

    pub fn current(&self) -> Arc<rustls::ServerConfig> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// Read the files again; on error the old configuration stays.
    pub fn reload(&self, cert: &Path, key: &Path) -> Result<(), String> {
        let fresh = server_config(cert, key)?;
        match self.current.write() {
            Ok(mut g) => *g = fresh,
            Err(p) => *p.into_inner() = fresh,
        }
        Ok(())
    }
}

fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", cert.display()));
    }
    // The key's path is named, never its content.
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read the private key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key do not form a usable pair: {e}"))?;
    // hyper serves HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
