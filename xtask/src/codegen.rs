//! `cargo xtask codegen [--check]`: API tables (`docs/api/<service>/<version>/*.md`) to
//! `crates/ms-model/src/generated/*.rs`.
//!
//! Modelled on rust-analyzer's xtask: every generated file starts with a "generated, do not edit"
//! preamble, `ensure_file_contents` writes a file or (in check mode) fails naming the stale file,
//! and a `#[test]` runs the check so `cargo test --workspace` catches tables edited without
//! regenerating.

mod check;
mod emit;
mod model;
mod parse;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use model::Api;

/// The API tables of the one service version this workspace generates.
const API_DIR: &str = "docs/api/ms/2018-04-08";
/// Where the generated modules go.
const OUT_DIR: &str = "crates/ms-model/src/generated";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut check = false;
    for a in args {
        match a.as_str() {
            "--check" => check = true,
            other => {
                return Err(format!(
                    "codegen: unknown argument `{other}` (usage: cargo xtask codegen [--check])"
                ));
            }
        }
    }
    let root = crate::project_root();
    let written = generate(&root, check)?;
    if check {
        println!("codegen: {} generated files are up to date", written.len());
    } else {
        println!("codegen: wrote {} files under {OUT_DIR}", written.len());
    }
    Ok(())
}

/// Parses the tables and writes (or checks) every generated file. Returns the file paths.
pub(crate) fn generate(root: &Path, check: bool) -> Result<Vec<PathBuf>, String> {
    let api = load_api(root, API_DIR)?;
    let files = render(&api)?;
    let out_dir = root.join(OUT_DIR);
    let mut paths = Vec::new();
    let mut stale = Vec::new();
    for (name, contents) in &files {
        let path = out_dir.join(name);
        if let Err(e) = ensure_file_contents(root, &path, contents, check) {
            stale.push(e);
        }
        paths.push(path);
    }
    // Files in the output directory that the generator no longer produces.
    if let Ok(entries) = std::fs::read_dir(&out_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with(".rs") && !files.iter().any(|(f, _)| *f == name) {
                if check {
                    stale.push(format!(
                        "{} is not produced by the generator any more",
                        rel(root, &entry.path())
                    ));
                } else {
                    std::fs::remove_file(entry.path())
                        .map_err(|e| format!("cannot remove {name}: {e}"))?;
                }
            }
        }
    }
    if !stale.is_empty() {
        return Err(format!(
            "{}\nrun `cargo xtask codegen` to regenerate",
            stale.join("\n")
        ));
    }
    Ok(paths)
}

/// Renders every generated file, formatted. File names are relative to the output directory.
fn render(api: &Api) -> Result<Vec<(&'static str, String)>, String> {
    let raw = vec![
        ("mod.rs", emit::mod_rs(api)),
        ("actions.rs", emit::actions_rs(api)),
        ("codes.rs", emit::codes_rs(api)),
        ("errors.rs", emit::errors_rs(api)),
        ("examples.rs", emit::examples_rs(api)),
        ("registry.rs", emit::registry_rs(api)),
        ("schemas.rs", emit::schemas_rs(api)),
        ("structures.rs", emit::structures_rs(api)),
    ];
    raw.into_iter()
        .map(|(name, src)| Ok((name, rustfmt(name, &src)?)))
        .collect()
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

/// Loads and checks every page of one service version directory.
pub(crate) fn load_api(root: &Path, dir: &str) -> Result<Api, String> {
    let abs = root.join(dir);
    let mut parts = dir.trim_end_matches('/').rsplit('/');
    let version = parts.next().unwrap_or_default().to_string();
    let service = parts.next().unwrap_or_default().to_string();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&abs)
        .map_err(|e| format!("cannot read {dir}: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    entries.sort();
    let mut api = Api {
        service,
        version,
        ..Api::default()
    };
    let mut common = Vec::new();
    let mut service_errors = Vec::new();
    let mut errs = Vec::new();
    for path in entries {
        let file = rel(root, &path);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {file}: {e}"))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let res = match name.as_str() {
            "data-structures.md" => {
                parse::structures_page(&file, &text).map(|s| api.structures.extend(s))
            }
            "error-codes.md" => {
                parse::errors_page(&file, &text, false).map(|e| service_errors.extend(e))
            }
            "common-errors.md" => parse::errors_page(&file, &text, true).map(|e| common.extend(e)),
            "code-lists.md" => {
                parse::code_lists_page(&file, &text).map(|l| api.code_lists.extend(l))
            }
            _ => parse::action_page(&file, &text).map(|a| api.actions.push(a)),
        };
        if let Err(e) = res {
            errs.push(e);
        }
    }
    if !errs.is_empty() {
        return Err(errs.join("\n"));
    }
    api.errors = merge_errors(service_errors, common);
    check::check(&api).map_err(|e| e.join("\n"))?;
    Ok(api)
}

fn merge_errors(
    service: Vec<model::ErrorDef>,
    common: Vec<model::ErrorDef>,
) -> Vec<model::ErrorDef> {
    let mut out = service;
    for c in common {
        match out.iter_mut().find(|e| e.code == c.code) {
            Some(e) => e.common = true,
            None => out.push(c),
        }
    }
    out
}

/// Formats Rust source with rustfmt (`$RUSTFMT` or `rustfmt`; stdin to stdout).
fn rustfmt(name: &str, src: &str) -> Result<String, String> {
    let program = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    rustfmt_with(&program, name, src)
}

/// Formats `src` (the generated file `name`) with the rustfmt binary `program`.
fn rustfmt_with(program: &str, name: &str, src: &str) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot run rustfmt (`{program}`) to format generated {name}: {e} \
                 (install it with `rustup component add rustfmt`, or set RUSTFMT)"
            )
        })?;
    // rustfmt reads all of stdin before it writes, so writing first cannot deadlock; a
    // rustfmt that exits early shows up as a write error or a failed status below.
    let written = match child.stdin.take() {
        Some(mut stdin) => stdin.write_all(src.as_bytes()),
        None => Ok(()),
    };
    let out = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt (`{program}`) on generated {name}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rustfmt (`{program}`) failed on generated {name} ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    if let Err(e) = written {
        return Err(format!(
            "rustfmt (`{program}`) on generated {name}: cannot write its input: {e}"
        ));
    }
    String::from_utf8(out.stdout)
        .map_err(|e| format!("rustfmt (`{program}`) output of generated {name} is not UTF-8: {e}"))
}

/// Writes `contents` to `path` if it differs; in check mode, reports the stale file instead.
fn ensure_file_contents(
    root: &Path,
    path: &Path,
    contents: &str,
    check: bool,
) -> Result<(), String> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if check {
        return Err(format!("{} was not up-to-date", rel(root, path)));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", rel(root, path)))
}

#[cfg(test)]
mod tests;
