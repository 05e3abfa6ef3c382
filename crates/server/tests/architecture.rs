//! The layering `docs/architecture.md` promises, checked on the sources: the TAP layer, the job
//! system, uploads and query execution never reach up into the HTTP layer (issue 11), so a rule
//! for every query lives below both front doors.

use std::path::Path;

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable source directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("readable source");
                found.push((path.display().to_string(), text));
            }
        }
    }
    found
}

#[test]
fn lower_layers_do_not_import_http() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    for layer in ["tap", "jobs", "upload", "exec", "db", "coding"] {
        for (file, text) in sources(&src.join(layer)) {
            checked += 1;
            for (n, line) in text.lines().enumerate() {
                assert!(
                    !line.contains("crate::http") && !line.contains("super::http"),
                    "{file}:{}: the {layer} layer imports the HTTP layer: {line}",
                    n + 1
                );
            }
        }
    }
    assert!(checked > 20, "the layers were found ({checked} files)");
}

/// The sources of a layer: a directory of modules or a single module file.
fn layer_sources(src: &Path, layer: &str) -> Vec<(String, String)> {
    let dir = src.join(layer);
    if dir.is_dir() {
        return sources(&dir);
    }
    let file = src.join(format!("{layer}.rs"));
    let text = std::fs::read_to_string(&file).expect("readable source");
    vec![(file.display().to_string(), text)]
}

/// The import graph below HTTP has no cycle: the query side (`tap`, uploads, execution) and
/// the job store never reach into the async side (`jobs`: workers, event hub), and the job
/// store (the bottom: SQL over `tapir.jobs`) imports neither. `jobs` builds on the query
/// side, so an owner or a quota added to the pipeline is added once for both front doors.
#[test]
fn the_query_side_does_not_import_the_async_side() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rules: &[(&str, &[&str])] = &[
        ("tap", &["crate::jobs"]),
        ("upload", &["crate::jobs"]),
        ("exec", &["crate::jobs"]),
        ("coding", &["crate::jobs"]),
        ("job_store", &["crate::jobs", "crate::tap", "crate::upload"]),
    ];
    for (layer, forbidden) in rules {
        let files = layer_sources(&src, layer);
        assert!(!files.is_empty(), "{layer} found");
        for (file, text) in files {
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for f in *forbidden {
                    assert!(!code.contains(f), "{file}:{}: {layer} imports {f}: {line}", n + 1);
                }
            }
        }
    }
}
