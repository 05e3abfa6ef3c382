//! The machine's PostgreSQL installation as Tapir's embedded cluster (and its tests) use it:
//! where its programs, shared files and modules are, and a private copy of it whose pgSphere
//! scripts are corrected for the PostgreSQL they run on ([`pgsphere`]).
//!
//! Why a copy works: PostgreSQL finds its `share/` and `lib/` directories relative to the
//! *real* path of the running `postgres` executable, keeping the relative layout it was built
//! with (for Debian: `/usr/lib/postgresql/15/bin` → `/usr/share/postgresql/15` and
//! `/usr/lib/postgresql/15/lib`). A copied `postgres` (and `pg_ctl`, which starts the
//! `postgres` beside its own real path) under `<root>/lib/postgresql/15/bin`, the machine's
//! module directory linked at `<root>/lib/postgresql/15/lib` and a `<root>/share/postgresql/15`
//! whose entries link to the machine's, except for the corrected pgSphere scripts, is a whole
//! installation that differs from the machine's in those scripts alone. Nothing outside
//! `<root>` is touched and no root privilege is needed.

pub mod pgsphere;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// The directory with the server's programs (initdb, pg_ctl, postgres): `configured` when it
/// is not empty (and holds them), else what `pg_config --bindir` says, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian's layout, where `pg_config` may be missing).
pub fn find_bindir(configured: &str) -> Option<PathBuf> {
    let configured = configured.trim();
    if !configured.is_empty() {
        let dir = PathBuf::from(configured);
        return has_server(&dir).then_some(dir);
    }
    if let Some(dir) = program_output("pg_config", &["--bindir"]).map(PathBuf::from) {
        if has_server(&dir) {
            return Some(dir);
        }
    }
    newest_debian_bindir(Path::new("/usr/lib/postgresql"))
}

fn has_server(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|p| dir.join(p).is_file())
}

/// The highest-versioned `<root>/<version>/bin` holding a server.
pub fn newest_debian_bindir(root: &Path) -> Option<PathBuf> {
    let mut found: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version: Option<Vec<u32>> = name.split('.').map(|p| p.parse().ok()).collect();
            let bin = entry.path().join("bin");
            version.filter(|_| has_server(&bin)).map(|v| (v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// What can go wrong while locating or copying an installation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { what, path, source }
}

/// One PostgreSQL installation: the directories the server was built to use, as real paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    /// `initdb`, `pg_ctl`, `postgres`.
    pub bin: PathBuf,
    /// `postgres.bki`, `extension/`, `timezonesets/`, ...
    pub share: PathBuf,
    /// The server's loadable modules (`$libdir`: `plpgsql.so`, `pg_sphere.so`).
    pub pkglib: PathBuf,
}

/// The programs a private copy holds: the server and the tool that starts it.
const COPIED_PROGRAMS: [&str; 2] = ["postgres", "pg_ctl"];

impl Install {
    /// The installation whose server is in `bin`. Its directories come from the `pg_config`
    /// beside it when there is one, else from the Debian layout
    /// (`<prefix>/lib/postgresql/<major>/{bin,lib}`, `<prefix>/share/postgresql/<major>`),
    /// else from a source install's (`<prefix>/{bin,lib,share}`).
    pub fn of(bin: &Path) -> Result<Install, Error> {
        let bin = fs::canonicalize(bin).map_err(io("find", bin))?;
        let major = bin
            .parent()
            .and_then(Path::file_name)
            .and_then(OsStr::to_str)
            .unwrap_or_default()
            .to_string();
        let share = share_candidates(&bin, &major)
            .into_iter()
            .find(|d| d.join("extension").join("plpgsql.control").is_file())
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "cannot find the share directory (with extension/plpgsql.control) of the PostgreSQL in {}",
                    bin.display()
                ))
            })?;
        let pkglib = pkglib_candidates(&bin)
            .into_iter()
            .find(|d| d.join("plpgsql.so").is_file())
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "cannot find the module directory (with plpgsql.so) of the PostgreSQL in {}",
                    bin.display()
                ))
            })?;
        Ok(Install {
            bin,
            share: fs::canonicalize(&share).map_err(io("find", &share))?,
            pkglib: fs::canonicalize(&pkglib).map_err(io("find", &pkglib))?,
        })
    }

    /// `<share>/extension`.
    pub fn extension_dir(&self) -> PathBuf {
        self.share.join("extension")
    }

    /// Whether pgSphere is installed for this server.
    pub fn has_pgsphere(&self) -> bool {
        self.extension_dir().join("pg_sphere.control").is_file()
    }

    /// The pgSphere scripts that need the correction, with their corrected text. Empty when
    /// the machine's pgSphere is fine as it is.
    pub fn pgsphere_corrections(&self) -> Result<Vec<(String, String)>, Error> {
        let dir = self.extension_dir();
        let mut corrected = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io("list", &dir))? {
            let entry = entry.map_err(io("list", &dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !pgsphere::is_script(&name) {
                continue;
            }
            let path = entry.path();
            let text = fs::read_to_string(&path).map_err(io("read", &path))?;
            if let Some(fixed) = pgsphere::correct_script(&text) {
                corrected.push((name, fixed));
            }
        }
        corrected.sort();
        Ok(corrected)
    }

    /// Make `root` a private copy of this installation whose pgSphere scripts are corrected
    /// (made anew from the machine's files every time, so it follows package upgrades). The
    /// copy is built beside `root` and moved into place, so a failure leaves no half-made
    /// copy behind. Returns the copy, which is an [`Install`] of its own.
    pub fn corrected_copy(&self, root: &Path) -> Result<CorrectedCopy, Error> {
        let corrections = self.pgsphere_corrections()?;
        let prefix = common_prefix(&[&self.bin, &self.share, &self.pkglib]);
        let below = |dir: &Path| dir.strip_prefix(&prefix).map(Path::to_path_buf);
        let (Ok(bin_rel), Ok(share_rel), Ok(pkglib_rel)) =
            (below(&self.bin), below(&self.share), below(&self.pkglib))
        else {
            return Err(Error::NotFound("the installation has no common prefix".into()));
        };
        let staging = sibling(root, &format!("tmp-{}", std::process::id()));
        remove_dir(&staging)?;
        let built = (|| {
            let bin = staging.join(&bin_rel);
            make_dir(&bin)?;
            for program in COPIED_PROGRAMS {
                let target = bin.join(program);
                fs::copy(self.bin.join(program), &target).map_err(io("copy", &target))?;
            }
            let pkglib = staging.join(&pkglib_rel);
            make_dir(pkglib.parent().unwrap_or(&staging))?;
            symlink(&self.pkglib, &pkglib).map_err(io("link", &pkglib))?;
            let share = staging.join(&share_rel);
            make_dir(&share)?;
            link_entries(&self.share, &share, |name| name != "extension")?;
            let extension = share.join("extension");
            make_dir(&extension)?;
            link_entries(&self.extension_dir(), &extension, |name| {
                !corrections.iter().any(|(corrected, _)| corrected == name)
            })?;
            for (name, text) in &corrections {
                let path = extension.join(name);
                fs::write(&path, text).map_err(io("write", &path))?;
            }
            make_readable(&staging)
        })();
        if let Err(e) = built {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        remove_dir(root)?;
        fs::rename(&staging, root).map_err(io("move into place", root))?;
        let root = fs::canonicalize(root).map_err(io("find", root))?;
        Ok(CorrectedCopy {
            install: Install {
                bin: root.join(bin_rel),
                share: root.join(share_rel),
                pkglib: self.pkglib.clone(),
            },
            corrected: corrections.into_iter().map(|(name, _)| name).collect(),
        })
    }
}

/// A private copy made by [`Install::corrected_copy`].
#[derive(Debug, Clone)]
pub struct CorrectedCopy {
    /// Run `pg_ctl` and `postgres` from `install.bin`; `initdb` and the client programs stay
    /// the machine's.
    pub install: Install,
    /// The pgSphere scripts that differ from the machine's (empty: the copy changes nothing).
    pub corrected: Vec<String>,
}

/// Where the share directory may be: the `pg_config` beside the server, the one on PATH when
/// it describes the same server, the Debian layout, a source install's.
fn share_candidates(bin: &Path, major: &str) -> Vec<PathBuf> {
    let mut candidates = pg_config_dir(bin, "--sharedir");
    // <prefix>/lib/postgresql/<major>/bin → <prefix>/share/postgresql/<major>
    let up = bin.join("..");
    candidates.push(up.join("../../../share/postgresql").join(major));
    candidates.push(up.join("share/postgresql"));
    candidates.push(up.join("share"));
    candidates
}

fn pkglib_candidates(bin: &Path) -> Vec<PathBuf> {
    let mut candidates = pg_config_dir(bin, "--pkglibdir");
    let up = bin.join("..");
    candidates.push(up.join("lib"));
    candidates.push(up.join("lib/postgresql"));
    candidates
}

/// What `pg_config FLAG` says, asking the `pg_config` in `bin`, and the one on PATH when its
/// `--bindir` is `bin`.
fn pg_config_dir(bin: &Path, flag: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let own = bin.join("pg_config");
    if own.is_file() {
        found.extend(program_output(&own, &[flag]).map(PathBuf::from));
    }
    let on_path_bin = program_output("pg_config", &["--bindir"]).map(PathBuf::from);
    if on_path_bin.is_some_and(|d| fs::canonicalize(d).ok().as_deref() == Some(bin)) {
        found.extend(program_output("pg_config", &[flag]).map(PathBuf::from));
    }
    found
}

/// The trimmed standard output of a successful command, if it printed anything.
pub fn program_output(program: impl AsRef<OsStr>, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The longest directory all of `dirs` are in.
fn common_prefix(dirs: &[&Path]) -> PathBuf {
    let mut prefix: Vec<Component> = dirs[0].components().collect();
    for dir in &dirs[1..] {
        let same = prefix
            .iter()
            .zip(dir.components())
            .take_while(|(a, b)| *a == b)
            .count();
        prefix.truncate(same);
    }
    prefix.iter().collect()
}

/// `root` with `.suffix` appended to its last component.
fn sibling(root: &Path, suffix: &str) -> PathBuf {
    let mut name = root.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    root.with_file_name(name)
}

fn make_dir(dir: &Path) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(io("create", dir))
}

fn remove_dir(dir: &Path) -> Result<(), Error> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", dir)(e)),
        _ => Ok(()),
    }
}

/// Link every entry of `from` that `keep` accepts into `to`.
fn link_entries(from: &Path, to: &Path, keep: impl Fn(&str) -> bool) -> Result<(), Error> {
    for entry in fs::read_dir(from).map_err(io("list", from))? {
        let entry = entry.map_err(io("list", from))?;
        let name = entry.file_name();
        if keep(&name.to_string_lossy()) {
            let link = to.join(&name);
            symlink(entry.path(), &link).map_err(io("link", &link))?;
        }
    }
    Ok(())
}

/// Directories 0755 and files 0644 (programs 0755) whatever the umask: when Tapir runs as
/// root, the cluster runs as another user, who must be able to read and run the copy.
fn make_readable(dir: &Path) -> Result<(), Error> {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).map_err(io("set permissions of", dir))?;
    for entry in fs::read_dir(dir).map_err(io("list", dir))? {
        let entry = entry.map_err(io("list", dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io("inspect", &path))?;
        if kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            make_readable(&path)?;
        } else {
            let program = COPIED_PROGRAMS
                .iter()
                .any(|p| path.file_name() == Some(OsStr::new(p)));
            let mode = if program { 0o755 } else { 0o644 };
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .map_err(io("set permissions of", &path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_of_the_debian_layout() {
        let p = common_prefix(&[
            Path::new("/usr/lib/postgresql/15/bin"),
            Path::new("/usr/share/postgresql/15"),
            Path::new("/usr/lib/postgresql/15/lib"),
        ]);
        assert_eq!(p, Path::new("/usr"));
        let p = common_prefix(&[
            Path::new("/opt/pg/bin"),
            Path::new("/opt/pg/share"),
            Path::new("/opt/pg/lib"),
        ]);
        assert_eq!(p, Path::new("/opt/pg"));
    }

    #[test]
    fn sibling_names() {
        assert_eq!(
            sibling(Path::new("/d/pg-install"), "tmp-7"),
            Path::new("/d/pg-install.tmp-7")
        );
    }

    /// A fake installation in a temporary directory: its pgSphere script needs the correction,
    /// and the copy must differ from it in that script alone.
    #[test]
    fn a_corrected_copy_of_a_fake_installation() {
        let base = std::env::temp_dir().join(format!("pginstall-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let bin = base.join("usr/lib/postgresql/15/bin");
        let lib = base.join("usr/lib/postgresql/15/lib");
        let share = base.join("usr/share/postgresql/15");
        for dir in [&bin, &lib, &share.join("extension"), &share.join("timezonesets")] {
            fs::create_dir_all(dir).expect("dirs");
        }
        for program in ["postgres", "pg_ctl", "initdb"] {
            fs::write(bin.join(program), format!("#!/bin/sh\necho {program}\n")).expect("program");
            fs::set_permissions(bin.join(program), fs::Permissions::from_mode(0o755)).expect("mode");
        }
        fs::write(lib.join("plpgsql.so"), "").expect("module");
        fs::write(share.join("postgres.bki"), "bki").expect("bki");
        let ext = share.join("extension");
        fs::write(ext.join("plpgsql.control"), "").expect("control");
        fs::write(ext.join("pg_sphere.control"), "default_version = '1.2.0'").expect("control");
        let script = "CREATE TYPE smoc;\nCREATE OPERATOR @ (\n   LEFTARG = bigint,\n   RIGHTARG = smoc,\n   PROCEDURE = f\n);\nCREATE OPERATOR @ (\n   LEFTARG = spoint,\n   RIGHTARG = smoc,\n   PROCEDURE = g\n);\nSELECT 1;\n";
        fs::write(ext.join("pg_sphere--1.2.0.sql"), script).expect("script");
        fs::write(ext.join("pg_sphere--1.0--1.0_gavo.sql"), "SELECT 2;\n").expect("script");

        let install = Install::of(&bin).expect("found");
        assert_eq!(install.share, fs::canonicalize(&share).expect("share"));
        assert_eq!(install.pkglib, fs::canonicalize(&lib).expect("lib"));
        assert!(install.has_pgsphere());

        let root = base.join("data/pg-install");
        let copy = install.corrected_copy(&root).expect("copied");
        assert_eq!(copy.corrected, ["pg_sphere--1.2.0.sql"]);
        let root = fs::canonicalize(&root).expect("root");
        assert_eq!(copy.install.bin, root.join("lib/postgresql/15/bin"));
        assert_eq!(copy.install.share, root.join("share/postgresql/15"));
        // The programs are copies (PostgreSQL follows symlinks to the machine's layout).
        let postgres = copy.install.bin.join("postgres");
        assert!(!fs::symlink_metadata(&postgres).expect("postgres").is_symlink());
        assert!(
            !copy.install.bin.join("initdb").exists(),
            "only the server and pg_ctl"
        );
        assert_eq!(
            fs::read_link(root.join("lib/postgresql/15/lib")).expect("module link"),
            fs::canonicalize(&lib).expect("lib")
        );
        let copied_share = &copy.install.share;
        assert_eq!(
            fs::read_to_string(copied_share.join("postgres.bki")).expect("bki"),
            "bki"
        );
        assert!(fs::symlink_metadata(copied_share.join("timezonesets"))
            .expect("tz")
            .is_symlink());
        let fixed = fs::read_to_string(copied_share.join("extension/pg_sphere--1.2.0.sql")).expect("fixed");
        assert_eq!(fixed, "CREATE TYPE smoc;\nSELECT 1;\n");
        let untouched = copied_share.join("extension/pg_sphere--1.0--1.0_gavo.sql");
        assert!(fs::symlink_metadata(&untouched).expect("other").is_symlink());
        // The machine's files are as they were.
        assert_eq!(
            fs::read_to_string(ext.join("pg_sphere--1.2.0.sql")).expect("orig"),
            script
        );
        // Made anew on the next call, with nothing left of the staging directory.
        install.corrected_copy(&root).expect("again");
        let leftovers: Vec<_> = fs::read_dir(base.join("data"))
            .expect("data")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers, ["pg-install"]);
        fs::remove_dir_all(&base).expect("clean up");
    }
}
