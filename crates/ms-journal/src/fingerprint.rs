//! The input's fingerprint: a journal resumes only the input it was made from.

use ms_model::AppInfo;
use sha2::{Digest, Sha256};

/// SHA-256 over the apps of an input, in order (each app's fields as one JSON line), and
/// their number.
#[derive(Debug, Clone, Default)]
pub struct Fingerprint {
    hasher: Sha256,
    apps: u64,
}

impl Fingerprint {
    /// An empty input's fingerprint, to feed app by app.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next app.
    pub fn push(&mut self, app: &AppInfo) {
        let line = serde_json::json!([
            app.app_url,
            app.app_md5,
            app.app_size,
            app.app_name,
            app.app_pkg_name,
            app.app_version,
            app.file_name,
            app.app_icon_url,
        ]);
        self.hasher.update(line.to_string().as_bytes());
        self.hasher.update(b"\n");
        self.apps += 1;
    }

    /// Apps so far.
    pub fn apps(&self) -> u64 {
        self.apps
    }

    /// The number of apps and the hex SHA-256.
    pub fn finish(self) -> (u64, String) {
        (self.apps, hex::encode(self.hasher.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(url: &str, name: Option<&str>) -> AppInfo {
        AppInfo {
            app_url: url.into(),
            app_md5: "0123456789abcdef0123456789abcdef".into(),
            app_name: name.map(str::to_owned),
            ..AppInfo::default()
        }
    }

    #[test]
    fn order_fields_and_count_all_change_the_fingerprint() {
        let of = |apps: &[AppInfo]| {
            let mut f = Fingerprint::new();
            apps.iter().for_each(|a| f.push(a));
            f.finish()
        };
        let a = app("https://e/a", None);
        let b = app("https://e/b", Some("B"));
        let base = of(&[a.clone(), b.clone()]);
        assert_eq!(base, of(&[a.clone(), b.clone()]));
        assert_eq!(base.0, 2);
        assert_ne!(base.1, of(&[b.clone(), a.clone()]).1);
        assert_ne!(base.1, of(&[a.clone(), app("https://e/b", Some("C"))]).1);
        assert_ne!(base.1, of(std::slice::from_ref(&a)).1);
        // A field moved into the next one is another input.
        assert_ne!(
            of(&[app("https://e/a", Some("x"))]).1,
            of(&[app("https://e/ax", None)]).1
        );
    }
}
