//! Local APK files: MD5 and size computed by streaming the file, and the download
//! URL built from a prefix or a template (the service downloads apps by URL, so a
//! local file must also be published somewhere).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use crate::error::CliError;
use crate::manifest::ManifestApp;

/// How the download URL of a local file is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSpec {
    /// `PREFIX/FILE_NAME` (the file name percent-encoded).
    Prefix(String),
    /// A template with `{file}`, `{stem}`, `{md5}` and `{size}` placeholders.
    Template(String),
}

impl UrlSpec {
    /// The URL for a file.
    pub fn url(&self, file_name: &str, md5: &str, size: u64) -> String {
        match self {
            UrlSpec::Prefix(prefix) => format!(
                "{}/{}",
                prefix.trim_end_matches('/'),
                percent_encode(file_name)
            ),
            UrlSpec::Template(t) => {
                let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
                t.replace("{file}", &percent_encode(file_name))
                    .replace("{stem}", &percent_encode(stem))
                    .replace("{md5}", md5)
                    .replace("{size}", &size.to_string())
            }
        }
    }

    /// Checks that the prefix or template makes http(s) URLs and uses only known placeholders.
    pub fn check(&self) -> Result<(), CliError> {
        let (flag, s) = match self {
            UrlSpec::Prefix(p) => ("--url-prefix", p),
            UrlSpec::Template(t) => ("--url-template", t),
        };
        if let UrlSpec::Template(t) = self {
            let mut rest = t.as_str();
            while let Some(i) = rest.find('{') {
                let after = &rest[i + 1..];
                let end = after.find('}').unwrap_or(after.len());
                let name = &after[..end];
                if !matches!(name, "file" | "stem" | "md5" | "size") {
                    return Err(CliError::usage(format!(
                        "--url-template: unknown placeholder {{{name}}}; use {{file}}, {{stem}}, {{md5}} or {{size}}"
                    )));
                }
                rest = &after[end.min(after.len())..];
            }
        }
        // A template's placeholders are not URL syntax: check it with sample values.
        let sample = match self {
            UrlSpec::Prefix(p) => p.clone(),
            UrlSpec::Template(t) => t
                .replace("{file}", "app.apk")
                .replace("{stem}", "app")
                .replace("{md5}", "0123456789abcdef0123456789abcdef")
                .replace("{size}", "1"),
        };
        if !ms_model::is_http_url(&sample) {
            return Err(CliError::usage(format!("{flag}: expected an http:// or https:// URL, got {s:?}"))
                .with_hint("the service downloads each app from its URL; publish the files and give their base URL"));
        }
        Ok(())
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// MD5 (lowercase hex) and size of a file, read in 64 KiB blocks.
pub fn md5_and_size(path: &Path) -> io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                size += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Expands the arguments: files as given, directories to their `*.apk` files (sorted).
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| CliError::file(p, "read", &e))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| CliError::file(p, "list", &e))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| {
                    f.is_file()
                        && f.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| e.eq_ignore_ascii_case("apk"))
                })
                .collect();
            if found.is_empty() {
                return Err(CliError::usage(format!(
                    "{}: the directory contains no .apk files",
                    p.display()
                )));
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Describes one local file as a manifest entry.
pub fn local_app(path: &Path, spec: &UrlSpec) -> Result<ManifestApp, CliError> {
    let (md5, size) = md5_and_size(path).map_err(|e| CliError::file(path, "read", &e))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let url = spec.url(&file_name, &md5, size);
    Ok(ManifestApp {
        url,
        md5,
        size: Some(size),
        file_name: Some(file_name),
        ..ManifestApp::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_a_known_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("my app.apk");
        std::fs::write(&p, b"hello world").unwrap();
        let app = local_app(&p, &UrlSpec::Prefix("https://cdn.example.com/apks/".into())).unwrap();
        assert_eq!(app.md5, "5eb63bbbe01eeed093cb22bb8f5acdc3");
        assert_eq!(app.size, Some(11));
        assert_eq!(app.url, "https://cdn.example.com/apks/my%20app.apk");
        assert_eq!(app.file_name.as_deref(), Some("my app.apk"));
    }

    #[test]
    fn template_placeholders() {
        let spec = UrlSpec::Template("https://h/{md5}/{stem}-{size}/{file}".into());
        spec.check().unwrap();
        assert_eq!(spec.url("a.apk", "ff", 3), "https://h/ff/a-3/a.apk");
        assert!(
            UrlSpec::Template("https://h/{nope}".into())
                .check()
                .is_err()
        );
        assert!(UrlSpec::Prefix("ftp://h".into()).check().is_err());
    }

    #[test]
    fn directories_expand_to_apks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.apk"), b"b").unwrap();
        std::fs::write(dir.path().join("a.APK"), b"a").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"n").unwrap();
        let files = expand_paths(&[dir.path().to_owned()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a.APK", "b.apk"]);
    }
}
