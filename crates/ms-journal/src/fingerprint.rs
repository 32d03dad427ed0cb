//! The input's fingerprint: a journal resumes only the input it was made from.

use ms_model::AppInfo;
use sha2::{Digest, Sha256};

/// SHA-256 over the apps of an input, in order (each app's eight fields, each one absent or
/// length-prefixed, so that no two inputs share a byte stream), and their number.
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
        let size = app.app_size.map(|s| s.to_le_bytes());
        let fields: [Option<&[u8]>; 8] = [
            Some(app.app_url.as_bytes()),
            Some(app.app_md5.as_bytes()),
            size.as_ref().map(|s| &s[..]),
            app.app_name.as_deref().map(str::as_bytes),
            app.app_pkg_name.as_deref().map(str::as_bytes),
            app.app_version.as_deref().map(str::as_bytes),
            app.file_name.as_deref().map(str::as_bytes),
            app.app_icon_url.as_deref().map(str::as_bytes),
        ];
        for field in fields {
            match field {
                None => self.hasher.update([0u8]),
                Some(bytes) => {
                    self.hasher.update([1u8]);
                    self.hasher.update((bytes.len() as u64).to_le_bytes());
                    self.hasher.update(bytes);
                }
            }
        }
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
