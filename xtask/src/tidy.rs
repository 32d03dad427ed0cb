//! Repository hygiene, checked by `cargo test` (after rust-analyzer's `tidy` tests).
//!
//! - Layering: a crate's normal `[dependencies]` name only crates of lower layers
//!   (`tc3-sign`, `ms-gcra` < `ms-model` < `ms-transport`, `ms-emulator` < `ms-journal` <
//!   `ms-cli`).
//!   Dev-dependencies may reach sideways for tests (ms-transport's tests run against
//!   ms-emulator).
//! - Every crate opts into the workspace lints (`[lints] workspace = true`).
//! - Every library crate root asks for documentation of public items (`missing_docs`).
//! - No leftover placeholder macros (`todo`, `unimplemented`, `dbg`) in source.
//! - No code branches on the text of an error (`tidy/message_text.rs`): match kinds, codes and
//!   fields instead.
//! - No hand-written function (outside tests) is longer than 120 lines (`tidy/fn_length.rs`).
//! - No public function takes a bare `bool` (`tidy/bool_params.rs`): an enum or two named
//!   functions say what the flag means at the call site.
//! - Every crate has its package metadata (description, README, keywords, categories,
//!   documentation) and no placeholder repository.
//! - Every runnable example the documentation names (`--example NAME`) exists.

#[cfg(test)]
mod bool_params;
#[cfg(test)]
mod fn_length;
#[cfg(test)]
mod message_text;
#[cfg(test)]
mod scan;

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use crate::project_root;

    /// The project's crates, lowest layer first, with the layer number.
    const LAYERS: &[(&str, u8)] = &[
        ("tc3-sign", 0),
        ("ms-gcra", 0),
        ("ms-model", 1),
        ("ms-transport", 2),
        ("ms-emulator", 2),
        ("ms-journal", 3),
        ("ms-cli", 4),
    ];

    fn layer_of(name: &str) -> Option<u8> {
        LAYERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
    }

    fn manifest(krate: &str) -> (PathBuf, String) {
        let path = project_root().join("crates").join(krate).join("Cargo.toml");
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        (path, text)
    }

    /// Names listed in one `[section]` of a Cargo manifest (`name = ...` or `name.workspace = ...`).
    fn section_keys(text: &str, section: &str) -> Vec<String> {
        let mut inside = false;
        let mut keys = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                inside = line == format!("[{section}]");
                continue;
            }
            if !inside || line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((key, _)) = line.split_once('=') {
                let key = key.trim();
                let key = key.strip_suffix(".workspace").unwrap_or(key).trim();
                keys.push(key.to_owned());
            }
        }
        keys
    }

    #[test]
    fn section_keys_reads_both_spellings() {
        let text = "[package]\nname = \"x\"\n[dependencies]\nms-model = { workspace = true }\ntc3-sign.workspace = true\n# comment\n[dev-dependencies]\nms-cli = { path = \"..\" }\n";
        assert_eq!(section_keys(text, "dependencies"), ["ms-model", "tc3-sign"]);
        assert_eq!(section_keys(text, "dev-dependencies"), ["ms-cli"]);
    }

    #[test]
    fn lower_layers_never_depend_on_higher_ones() {
        let mut violations = Vec::new();
        for (krate, layer) in LAYERS {
            let (path, text) = manifest(krate);
            for dep in section_keys(&text, "dependencies") {
                if let Some(dep_layer) = layer_of(&dep)
                    && dep_layer >= *layer
                {
                    violations.push(format!(
                        "{}: `{krate}` (layer {layer}) depends on `{dep}` (layer {dep_layer})",
                        path.display()
                    ));
                }
            }
        }
        assert!(
            violations.is_empty(),
            "layering violated:\n{}",
            violations.join("\n")
        );
    }

    #[test]
    fn a_plain_cargo_test_runs_these_checks() {
        // `default-members` without xtask would make a plain `cargo test` skip the tidy and
        // codegen-freshness tests.
        let path = project_root().join("Cargo.toml");
        let text = fs::read_to_string(&path).expect("root Cargo.toml");
        let members = section_keys(&text, "workspace");
        if members.iter().any(|k| k == "default-members") {
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with("default-members"))
                .unwrap_or("");
            assert!(
                line.contains("\"xtask\""),
                "{}: default-members leaves xtask out: {line}",
                path.display()
            );
        }
        assert!(
            members.iter().any(|k| k == "members"),
            "no [workspace] members"
        );
    }

    #[test]
    fn every_crate_uses_the_workspace_lints() {
        let mut missing = Vec::new();
        let mut manifests: Vec<(PathBuf, String)> =
            LAYERS.iter().map(|(k, _)| manifest(k)).collect();
        let xtask = project_root().join("xtask").join("Cargo.toml");
        let xtask_text = fs::read_to_string(&xtask).expect("xtask/Cargo.toml");
        manifests.push((xtask, xtask_text));
        for (path, text) in manifests {
            if section_keys(&text, "lints") != ["workspace"] {
                missing.push(path.display().to_string());
            }
        }
        assert!(
            missing.is_empty(),
            "missing `[lints] workspace = true`: {missing:?}"
        );
    }

    #[test]
    fn every_library_documents_its_public_items() {
        for (krate, _) in LAYERS {
            let lib = project_root()
                .join("crates")
                .join(krate)
                .join("src")
                .join("lib.rs");
            let Ok(text) = fs::read_to_string(&lib) else {
                continue; // a binary-only crate
            };
            assert!(
                text.contains("missing_docs"),
                "{} does not enable the `missing_docs` lint",
                lib.display()
            );
        }
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Known exceptions to `no_code_branches_on_error_message_text`: (file, a piece of the
    /// line as written, why). Keep it short; each entry names why no typed alternative exists.
    const MESSAGE_TEXT_ALLOWED: &[(&str, &str, &str)] = &[(
        "crates/ms-cli/src/manifest.rs",
        "s.rfind(\" at line \")",
        "serde_json has no accessor for its message without the position suffix; only the \
         suffix is cut, no decision depends on the wording",
    )];

    #[test]
    fn no_code_branches_on_error_message_text() {
        let mut hits = Vec::new();
        let mut used = vec![false; MESSAGE_TEXT_ALLOWED.len()];
        for source in super::scan::workspace_sources() {
            for (line, what) in super::message_text::find(&source.lines, &source.raw) {
                let raw = source
                    .raw
                    .iter()
                    .find(|(n, _)| *n == line)
                    .map_or("", |(_, l)| l.as_str());
                let allowed = MESSAGE_TEXT_ALLOWED
                    .iter()
                    .position(|(file, piece, _)| source.path == *file && raw.contains(piece));
                match allowed {
                    Some(i) => used[i] = true,
                    None => hits.push(format!("{}:{line}: {what}", source.path)),
                }
            }
        }
        for (entry, used) in MESSAGE_TEXT_ALLOWED.iter().zip(used) {
            assert!(
                used,
                "stale MESSAGE_TEXT_ALLOWED entry (remove it): {entry:?}"
            );
        }
        assert!(
            hits.is_empty(),
            "code that branches on error message text (match the error's kind, code or fields; \
             see xtask/src/tidy/message_text.rs):\n{}",
            hits.join("\n")
        );
    }

    /// Functions still longer than `fn_length::MAX_LINES`, each with the engineer splitting it:
    /// (file, function, owner). Remove an entry when the function is split (the test fails on
    /// an entry that is no longer needed).
    const LONG_FUNCTIONS_ALLOWED: &[(&str, &str, &str)] = &[];

    #[test]
    fn no_hand_written_function_is_longer_than_a_screen() {
        use super::fn_length::{MAX_LINES, functions};
        let mut long = Vec::new();
        let mut used = vec![false; LONG_FUNCTIONS_ALLOWED.len()];
        for source in super::scan::workspace_sources() {
            for f in functions(&source.lines) {
                if f.lines <= MAX_LINES {
                    continue;
                }
                let allowed = LONG_FUNCTIONS_ALLOWED
                    .iter()
                    .position(|(file, name, _)| source.path == *file && f.name == *name);
                match allowed {
                    Some(i) => used[i] = true,
                    None => long.push(format!(
                        "{}:{}: fn {} is {} lines",
                        source.path, f.line, f.name, f.lines
                    )),
                }
            }
        }
        let stale: Vec<String> = LONG_FUNCTIONS_ALLOWED
            .iter()
            .zip(used)
            .filter(|(_, used)| !used)
            .map(|((file, name, owner), _)| format!("{file}: {name} ({owner})"))
            .collect();
        assert!(
            long.is_empty(),
            "functions over {MAX_LINES} lines (split them: work out what to do, then do it):\n{}",
            long.join("\n")
        );
        assert!(
            stale.is_empty(),
            "LONG_FUNCTIONS_ALLOWED entries no longer needed (remove them from xtask/src/tidy.rs):\n{}",
            stale.join("\n")
        );
    }

    #[test]
    fn no_placeholders_left_in_source() {
        let mut files = Vec::new();
        for (krate, _) in LAYERS {
            rust_files(
                &project_root().join("crates").join(krate).join("src"),
                &mut files,
            );
        }
        rust_files(&project_root().join("xtask").join("src"), &mut files);
        // Spelled in two halves so this file does not match itself.
        let needles = [
            concat!("todo", "!("),
            concat!("unimplemented", "!("),
            concat!("dbg", "!("),
        ];
        let mut hits = Vec::new();
        for file in files {
            let text = fs::read_to_string(&file).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                if needles.iter().any(|needle| line.contains(needle)) {
                    hits.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(
            hits.is_empty(),
            "placeholders left in source:\n{}",
            hits.join("\n")
        );
    }
    #[test]
    fn no_public_function_takes_a_bare_bool() {
        let mut hits = Vec::new();
        for source in super::scan::workspace_sources() {
            for b in super::bool_params::find(&source.lines) {
                hits.push(format!("{}:{}: pub fn {}", source.path, b.line, b.name));
            }
        }
        assert!(
            hits.is_empty(),
            "public functions with a bare `bool` parameter (take an enum, or split into two \
             named functions; see xtask/src/tidy/bool_params.rs):\n{}",
            hits.join("\n")
        );
    }

    /// The names after `--example` in `text` (`cargo run -p x --example NAME`, and a later
    /// `` `--example OTHER` `` of the same crate).
    fn example_names(text: &str) -> Vec<String> {
        text.split("--example")
            .skip(1)
            .filter_map(|rest| {
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                (!name.is_empty()).then_some(name)
            })
            .collect()
    }

    #[test]
    fn example_names_are_read_after_the_flag() {
        assert_eq!(
            example_names("cargo run -p a --example one  # x\n`--example two_b`, --example\n"),
            ["one", "two_b"]
        );
    }

    #[test]
    fn every_example_the_docs_name_exists() {
        let root = project_root();
        let mut docs: Vec<PathBuf> = vec![root.join("README.md"), root.join(".ci").join("run")];
        for (krate, _) in LAYERS {
            let dir = root.join("crates").join(krate);
            docs.push(dir.join("README.md"));
            rust_files(&dir.join("src"), &mut docs);
            rust_files(&dir.join("examples"), &mut docs);
        }
        if let Ok(entries) = fs::read_dir(root.join("docs")) {
            docs.extend(entries.flatten().map(|e| e.path()));
        }
        let mut missing = Vec::new();
        for doc in docs {
            let Ok(text) = fs::read_to_string(&doc) else {
                continue;
            };
            for name in example_names(&text) {
                let exists = LAYERS.iter().any(|(krate, _)| {
                    root.join("crates")
                        .join(krate)
                        .join("examples")
                        .join(format!("{name}.rs"))
                        .is_file()
                });
                if !exists {
                    missing.push(format!("{}: --example {name}", doc.display()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "documented examples that do not exist:\n{}",
            missing.join("\n")
        );
    }

    /// The module map of `docs/architecture.md`: for each crate (`xtask` included), the
    /// names written in backquotes in its rows' module column (`batch/` -> `batch`,
    /// `tidy/scan` kept as a path).
    fn module_map(text: &str) -> Vec<(String, Vec<String>)> {
        let section = text
            .split("\n## Module map")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap_or("");
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for line in section.lines().filter(|l| l.starts_with('|')) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (Some(krate), Some(modules)) = (cells.get(1), cells.get(2)) else {
                continue;
            };
            if *krate == "crate" || krate.starts_with("---") {
                continue;
            }
            if !krate.is_empty() {
                out.push((krate.trim_matches('`').to_owned(), Vec::new()));
            }
            let Some((_, names)) = out.last_mut() else {
                continue;
            };
            names.extend(
                modules
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(|n| n.trim_end_matches('/').to_owned()),
            );
        }
        out
    }

    #[test]
    fn the_module_map_is_read_by_crate() {
        let text = "x\n## Module map\n\n| crate | module | owns |\n| --- | --- | --- |\n| `a` | `one`, `two/` | x `not` |\n| | `three` (+ `t/four`) | y |\n| `b` | `lib` | z |\n\nprose\n## Next\n| `c` | `no` | |\n";
        assert_eq!(
            module_map(text),
            [
                (
                    "a".to_owned(),
                    vec!["one".into(), "two".into(), "three".into(), "t/four".into()]
                ),
                ("b".to_owned(), vec!["lib".into()]),
            ]
        );
    }

    /// Where a crate's sources are.
    fn source_dir(krate: &str) -> PathBuf {
        match krate {
            "xtask" => project_root().join("xtask").join("src"),
            _ => project_root().join("crates").join(krate).join("src"),
        }
    }

    #[test]
    fn the_module_map_matches_the_tree() {
        let path = project_root().join("docs").join("architecture.md");
        let text = fs::read_to_string(&path).expect("docs/architecture.md");
        let map = module_map(&text);
        let mut problems = Vec::new();
        let crates = LAYERS.iter().map(|(k, _)| *k).chain(["xtask"]);
        for krate in crates {
            let Some((_, listed)) = map.iter().find(|(k, _)| k == krate) else {
                problems.push(format!("`{krate}` has no rows"));
                continue;
            };
            let src = source_dir(krate);
            // Every top-level module (a file or a directory of src/) is named.
            let entries = fs::read_dir(&src).map(|d| d.flatten().collect::<Vec<_>>());
            for entry in entries.unwrap_or_default() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let module = match name.strip_suffix(".rs") {
                    Some("lib" | "main") => continue,
                    Some(stem) => stem.to_owned(),
                    None if entry.path().is_dir() => name,
                    None => continue,
                };
                if !listed
                    .iter()
                    .any(|n| n == &module || n.starts_with(&format!("{module}/")))
                {
                    problems.push(format!("`{krate}`: module `{module}` is not in the map"));
                }
            }
            // Every name in the map is a module of the crate (at any depth).
            let mut files = Vec::new();
            rust_files(&src, &mut files);
            for name in listed {
                let found = files.iter().any(|f| {
                    let rel = f.strip_prefix(&src).unwrap_or(f).with_extension("");
                    let rel = rel.to_string_lossy();
                    rel == name.as_str()
                        || rel.ends_with(&format!("/{name}"))
                        || rel.starts_with(&format!("{name}/"))
                        || rel.contains(&format!("/{name}/"))
                });
                if !found {
                    problems.push(format!(
                        "`{krate}`: the map names `{name}`, which is not a module"
                    ));
                }
            }
        }
        assert!(
            problems.is_empty(),
            "{}: the module map does not match the tree:\n{}",
            path.display(),
            problems.join("\n")
        );
    }

    #[test]
    fn every_crate_has_package_metadata() {
        let mut problems = Vec::new();
        for (krate, _) in LAYERS {
            let (path, text) = manifest(krate);
            let package = section_keys(&text, "package");
            for key in [
                "description",
                "readme",
                "keywords",
                "categories",
                "documentation",
            ] {
                if !package.iter().any(|k| k == key) {
                    problems.push(format!("{}: no `{key}`", path.display()));
                }
            }
            let readme = project_root().join("crates").join(krate).join("README.md");
            if !readme.is_file() {
                problems.push(format!("{}: missing", readme.display()));
            }
            if text.contains("example.invalid") {
                problems.push(format!("{}: placeholder URL", path.display()));
            }
        }
        assert!(
            problems.is_empty(),
            "crate metadata:\n{}",
            problems.join("\n")
        );
    }
}
