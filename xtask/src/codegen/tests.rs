//! Tests of the table parser and the generator.

use super::model::{Constraint, Format, Member, Scalar, TypeRef};
use super::*;

/// The generated code matches the tables (fails when a table was edited without regenerating).
#[test]
fn generated_code_is_fresh() {
    if let Err(e) = generate(&crate::project_root(), true) {
        panic!("{e}");
    }
}

fn api() -> Api {
    load_api(&crate::project_root(), API_DIR).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn tables_have_27_actions_41_structures_and_every_error_code() {
    let api = api();
    assert_eq!(api.actions.len(), 27);
    assert_eq!(api.structures.len(), 41);
    let text = std::fs::read_to_string(crate::project_root().join(API_DIR).join("error-codes.md"))
        .unwrap();
    let service: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| ")?.split(" |").next())
        .filter(|c| c.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .collect();
    assert_eq!(service.len(), 48 + 1, "48 codes plus the header row"); // "Error Code" header
    for code in &service[1..] {
        assert!(api.errors.iter().any(|e| e.code == *code), "{code}");
    }
    for code in [
        "AuthFailure.SignatureExpire",
        "RequestLimitExceeded.UinLimitExceeded",
        "InvalidAction",
        "NoSuchVersion",
    ] {
        assert!(
            api.errors.iter().any(|e| e.code == code && e.common),
            "{code}"
        );
    }
}

#[test]
fn idempotency_follows_the_verb() {
    for a in api().actions {
        assert_eq!(a.idempotent, a.name.starts_with("Describe"), "{}", a.name);
    }
}

#[test]
fn integer_markers_give_exact_types() {
    let api = api();
    let scan = api
        .actions
        .iter()
        .find(|a| a.name == "CreateScanInstances")
        .unwrap();
    let progress = scan.output.iter().find(|m| m.name == "Progress").unwrap();
    assert_eq!(progress.ty, TypeRef::Scalar(Scalar::UInt64));
    let cancel = api
        .actions
        .iter()
        .find(|a| a.name == "CancelEncryptTask")
        .unwrap();
    let state = cancel.output.iter().find(|m| m.name == "State").unwrap();
    assert_eq!(state.ty, TypeRef::Scalar(Scalar::Int64));
    let app_info = api.structure("AppInfo").unwrap();
    let md5 = app_info
        .members
        .iter()
        .find(|m| m.name == "AppMd5")
        .unwrap();
    assert!(md5.required);
    assert_eq!(md5.constraints, vec![Constraint::Format(Format::Md5)]);
}

/// What the model says about a member, without prose and positions.
fn shape(m: &Member) -> (String, TypeRef, bool, bool, Vec<Constraint>) {
    (
        m.name.clone(),
        m.ty.clone(),
        m.array,
        m.required,
        m.constraints.clone(),
    )
}

fn fixture(name: &str) -> (String, String) {
    let file = format!("tests/fixtures/api/{name}");
    let text = std::fs::read_to_string(crate::project_root().join(&file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    (file, text)
}

#[test]
fn chinese_layout_yields_the_english_model() {
    let (file, text) = fixture("CreateScanInstances.zh.md");
    let zh = parse::action_page(&file, &text).unwrap_or_else(|e| panic!("{e}"));
    let api = api();
    let en = api
        .actions
        .iter()
        .find(|a| a.name == "CreateScanInstances")
        .unwrap();
    assert_eq!(zh.name, en.name);
    assert_eq!(
        zh.input.iter().map(shape).collect::<Vec<_>>(),
        en.input.iter().map(shape).collect::<Vec<_>>()
    );
    assert_eq!(
        zh.output.iter().map(shape).collect::<Vec<_>>(),
        en.output.iter().map(shape).collect::<Vec<_>>()
    );
    assert_eq!(zh.idempotent, en.idempotent);
    // `Array of [AppInfo](/document/...)` is a list of the structure.
    assert_eq!(zh.input[0].ty, TypeRef::Struct("AppInfo".into()));
    assert!(zh.input[0].array);
    // 是/否 and the Region row.
    assert!(zh.input.iter().all(|m| m.required));
    assert_eq!(zh.region_required, Some(false));
    // The GET-style 输入示例 is unflattened, every value a string.
    assert_eq!(zh.examples.len(), 1);
    assert!(zh.examples[0].query_form);
    assert_eq!(
        zh.examples[0].request,
        r#"{"AppInfos":[{"AppUrl":"http://example.com/1.apk","AppMd5":"dd5b29a800246d7089febf228286d901","AppSize":"1024"}],"ScanInfo":{"CallbackUrl":"http://example.com/cb","ScanTypes":["ADSCAN","VULSCAN"]}}"#
    );
    assert!(
        zh.examples[0]
            .response
            .contains("\"ItemId\": \"shgugu-hiw72-334kd\"")
    );
    // 错误码: a subset of the English page's list.
    let codes: Vec<&str> = zh.errors.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(
        codes,
        [
            "InternalError",
            "InternalError.ServerError",
            "LimitExceeded",
            "MissingParameter.MissingAppInfo"
        ]
    );
    for c in codes {
        assert!(en.errors.iter().any(|(e, _, _)| e == c), "{c}");
    }
}

#[test]
fn official_page_without_integer_markers_is_rejected_at_the_line() {
    let (file, text) = fixture("CreateScanInstances.zh.md");
    let text = text.replace("[uint64] ", "");
    let e = parse::action_page(&file, &text).unwrap_err();
    assert!(
        e.starts_with("tests/fixtures/api/CreateScanInstances.zh.md:26: "),
        "{e}"
    );
    assert!(e.contains("type `Integer` is ambiguous"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Malformed tables: each fails with file:line and a clear message.

const PAGE_HEAD: &str = "# Demo\n\n## 1. Description\n\nDemo action.\n\n## 2. Input Parameters\n\n";
const OUTPUT: &str = "\n## 3. Output Parameters\n\n| Parameter | Type | Description |\n|---|---|---|\n| RequestId | String | Request ID. |\n";

fn page(input_table: &str) -> String {
    format!("{PAGE_HEAD}{input_table}{OUTPUT}")
}

fn parse_err(text: &str) -> String {
    match parse::action_page("docs/api/x/1/Demo.md", text) {
        Ok(a) => panic!("parsed: {a:?}"),
        Err(e) => e,
    }
}

#[test]
fn missing_column_is_reported_with_file_and_line() {
    let e = parse_err(&page(
        "| Parameter | Type | Description |\n|---|---|---|\n| A | String | a |\n",
    ));
    assert_eq!(
        e,
        "docs/api/x/1/Demo.md:9: input parameter table is missing the `Required` column (found columns: `Parameter`, `Type`, `Description`)"
    );
}

#[test]
fn unknown_type_is_reported() {
    let e = parse_err(&page(
        "| Parameter | Required | Type | Description |\n|---|---|---|---|\n| A | Yes | String | a |\n| B | No | Map<String> | b |\n",
    ));
    assert!(
        e.starts_with("docs/api/x/1/Demo.md:12: unknown type `Map<String>`"),
        "{e}"
    );
    let e = parse_err(&page(
        "| Parameter | Required | Type | Description |\n|---|---|---|---|\n| B | No | Boolean | b |\n",
    ));
    assert!(
        e.starts_with("docs/api/x/1/Demo.md:11: unknown type `Boolean`"),
        "{e}"
    );
}

#[test]
fn unparsable_constraints_are_reported() {
    let cases = [
        (
            "`{max_items: many}`",
            "unparsable constraint `max_items`: expected a non-negative integer, got `many`",
        ),
        (
            "`{colour: red}`",
            "unparsable constraint: unknown key `colour`",
        ),
        (
            "`{enum: VULSCAN}`",
            "unparsable constraint `enum`: expected a list like `[a, b]`, got `VULSCAN`",
        ),
        (
            "`{max_items 20}`",
            "unparsable constraint `{max_items 20}`: expected `{key: value}`",
        ),
        (
            "`{required_when: Mode = 1}`",
            "unparsable constraint `required_when`: expected `Member == value [&& ...]`",
        ),
        (
            "`{format: mp3}`",
            "unparsable constraint `format`: unknown format `mp3`",
        ),
        (
            "`{max_items: 20`",
            "unparsable constraint: `{` without a closing `}`",
        ),
    ];
    for (tag, msg) in cases {
        let e = parse_err(&page(&format!(
            "| Parameter | Required | Type | Description |\n|---|---|---|---|\n| A.N | Yes | Array of String | a {tag} |\n"
        )));
        assert!(
            e.starts_with(&format!("docs/api/x/1/Demo.md:11: {msg}")),
            "{tag}: {e}"
        );
    }
}

#[test]
fn list_notation_needs_an_array_type() {
    let e = parse_err(&page(
        "| Parameter | Required | Type | Description |\n|---|---|---|---|\n| A.N | Yes | String | a |\n",
    ));
    assert!(
        e.starts_with("docs/api/x/1/Demo.md:11: member `A.N` is written as a list"),
        "{e}"
    );
}

#[test]
fn ragged_rows_and_missing_separator_are_reported() {
    let e = parse_err(&page(
        "| Parameter | Required | Type | Description |\n|---|---|---|---|\n| A | Yes | String |\n",
    ));
    assert!(
        e.starts_with(
            "docs/api/x/1/Demo.md:11: table row has 3 cells but the header has 4 columns"
        ),
        "{e}"
    );
    let e = parse_err(&page(
        "| Parameter | Required | Type | Description |\n| A | Yes | String | a |\n",
    ));
    assert!(
        e.starts_with("docs/api/x/1/Demo.md:10: expected the table separator row"),
        "{e}"
    );
}

/// A temporary copy of the API directory, edited, then loaded.
struct TempApi {
    root: PathBuf,
}

impl TempApi {
    fn new(tag: &str) -> TempApi {
        let root = std::env::temp_dir().join(format!("xtask-codegen-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in [API_DIR, OUT_DIR] {
            let src = crate::project_root().join(dir);
            let dst = root.join(dir);
            std::fs::create_dir_all(&dst).unwrap();
            for entry in std::fs::read_dir(&src).unwrap().flatten() {
                std::fs::copy(entry.path(), dst.join(entry.file_name())).unwrap();
            }
        }
        TempApi { root }
    }

    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.root.join(API_DIR).join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} does not contain {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    fn load(&self) -> Result<Api, String> {
        load_api(&self.root, API_DIR)
    }
}

impl Drop for TempApi {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn line_of(t: &TempApi, file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(t.root.join(API_DIR).join(file)).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn duplicate_member_is_reported() {
    let t = TempApi::new("dup");
    t.edit(
        "CreateScanInstances.md",
        "| ScanInfo | Yes | ScanInfo |",
        "| AppInfos | No | String | again |\n| ScanInfo | Yes | ScanInfo |",
    );
    let line = line_of(&t, "CreateScanInstances.md", "| AppInfos | No |");
    let e = t.load().unwrap_err();
    let want = format!(
        "docs/api/ms/2018-04-08/CreateScanInstances.md:{line}: duplicate member `AppInfos` in CreateScanInstances input (first at line {})",
        line - 1
    );
    assert_eq!(e, want);
}

#[test]
fn members_mapping_to_the_same_rust_field_are_reported() {
    let t = TempApi::new("snake");
    t.edit(
        "data-structures.md",
        "| AppName | String | No | App name. |",
        "| AppName | String | No | App name. |\n| App_Name | String | No | x |",
    );
    let e = t.load().unwrap_err();
    assert!(e.contains("duplicate member: `AppName` and `App_Name` in structure `AppInfo` map to the same Rust field `app_name`"), "{e}");
}

#[test]
fn undefined_structure_is_reported() {
    let t = TempApi::new("undef");
    t.edit(
        "CreateScanInstances.md",
        "| ScanInfo | Yes | ScanInfo |",
        "| ScanInfo | Yes | ScanSettings |",
    );
    let line = line_of(
        &t,
        "CreateScanInstances.md",
        "| ScanInfo | Yes | ScanSettings |",
    );
    let e = t.load().unwrap_err();
    assert_eq!(
        e,
        format!(
            "docs/api/ms/2018-04-08/CreateScanInstances.md:{line}: member `ScanInfo` of CreateScanInstances input references structure `ScanSettings`, which is not defined in data-structures.md"
        )
    );
}

#[test]
fn misapplied_constraints_and_undefined_codes_are_reported() {
    let t = TempApi::new("misapplied");
    t.edit("CreateScanInstances.md", "`{max_items: 20}`", "`{max: 20}`");
    t.edit(
        "CreateScanInstances.md",
        "| LimitExceeded |",
        "| LimitExceededX |",
    );
    t.edit(
        "CreateEncryptInstance.md",
        "| ResourceId | Yes | String |",
        "| ResourceId | Yes | String | `{required_when: NoSuch == 1}`",
    );
    let e = t.load().unwrap_err();
    assert!(e.contains("CreateScanInstances.md:28: member `AppInfos` of CreateScanInstances input: `max`/`min` need an integer type"), "{e}");
    let line = line_of(&t, "CreateScanInstances.md", "| LimitExceededX |");
    assert!(e.contains(&format!("CreateScanInstances.md:{line}: CreateScanInstances: error code `LimitExceededX` is not defined")), "{e}");
    assert!(
        e.contains("`required_when` on a member that is always required"),
        "{e}"
    );
}

#[test]
fn required_when_paths_must_exist_in_the_request() {
    let t = TempApi::new("paths");
    t.edit(
        "data-structures.md",
        "`{required_when: EncryptOpType == 1}`",
        "`{required_when: EncryptMode == 1}`",
    );
    let e = t.load().unwrap_err();
    assert!(
        e.contains(
            "`EncryptMode` does not name a scalar member of the CreateEncryptInstance request"
        ),
        "{e}"
    );
}

#[test]
fn check_mode_names_the_stale_file_after_a_table_edit() {
    let t = TempApi::new("stale");
    generate(&t.root, true).unwrap_or_else(|e| panic!("fresh copy should pass: {e}"));
    t.edit(
        "CreateScanInstances.md",
        "Apps to scan; at most 20 per request.",
        "Apps to scan (edited).",
    );
    let e = generate(&t.root, true).unwrap_err();
    assert!(
        e.contains("crates/ms-model/src/generated/actions.rs was not up-to-date"),
        "{e}"
    );
    assert!(
        e.contains("crates/ms-model/src/generated/schemas.rs was not up-to-date"),
        "{e}"
    );
    assert!(e.contains("run `cargo xtask codegen`"), "{e}");
    // Regenerating fixes it, and a second run changes nothing (deterministic output).
    generate(&t.root, false).unwrap();
    let before = std::fs::read_to_string(t.root.join(OUT_DIR).join("actions.rs")).unwrap();
    assert!(before.contains("Apps to scan (edited)."));
    generate(&t.root, true).unwrap();
    generate(&t.root, false).unwrap();
    assert_eq!(
        before,
        std::fs::read_to_string(t.root.join(OUT_DIR).join("actions.rs")).unwrap()
    );
}

#[test]
fn generated_files_start_with_the_preamble() {
    for entry in std::fs::read_dir(crate::project_root().join(OUT_DIR))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        assert!(
            text.starts_with("// @generated by `cargo xtask codegen` from the API tables under `docs/api/`.\n// Do not edit this file by hand"),
            "{}",
            entry.path().display()
        );
    }
}

#[test]
fn snake_case_matches_the_contract() {
    use super::emit::snake_case;
    for (wire, rust) in [
        ("AppMd5", "app_md5"),
        ("AppMd5s", "app_md5s"),
        ("CreatTime", "creat_time"),
        ("IOSInfo", "ios_info"),
        ("InfoPListUrl", "info_p_list_url"),
        ("AntiSSL", "anti_ssl"),
        ("SDKPlan", "sdk_plan"),
        ("ErrNo", "err_no"),
        ("Errno", "errno"),
        ("CosTocken", "cos_tocken"),
    ] {
        assert_eq!(snake_case(wire), rust);
    }
}

#[test]
fn cells_links_escaped_pipes_and_column_order() {
    let text = page(
        "| Type | Description | Required | Parameter |\n|:--|--|--|--|\n| Array of [Filter](/document/api/283/17759#Filter) | a \\| b `{max_items: 3}` | 否 | Filters.N |\n| Integer | [uint64] n `{enum: [1, \"2\"]}` `{default: 1}` | 是 | N |\n",
    );
    let a = parse::action_page("docs/api/x/1/Demo.md", &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.input.len(), 2);
    let f = &a.input[0];
    assert_eq!(
        (f.name.as_str(), &f.ty, f.array, f.required),
        ("Filters", &TypeRef::Struct("Filter".into()), true, false)
    );
    assert_eq!(f.description, "a | b");
    assert_eq!(f.constraints, vec![Constraint::MaxItems(3)]);
    let n = &a.input[1];
    assert_eq!(
        (&n.ty, n.required),
        (&TypeRef::Scalar(Scalar::UInt64), true)
    );
    assert_eq!(n.description, "n");
    assert_eq!(
        n.constraints,
        vec![
            Constraint::Enum(vec!["1".into(), "2".into()]),
            Constraint::Default("1".into())
        ]
    );
    // Defaults: not a Describe action, so not idempotent; no examples, no errors.
    assert!(!a.idempotent);
    assert!(a.examples.is_empty() && a.errors.is_empty());
}

#[test]
fn bullets_override_the_defaults() {
    let text = PAGE_HEAD.replace(
        "Demo action.\n",
        "Demo action. Second sentence.\n\n- Idempotent: Yes\n- Scan workflow: Yes\n- Summary: Do the demo\n",
    ) + "| Parameter | Required | Type | Description |\n|---|---|---|---|\n| Region | Yes | String | Common parameter. Required. |\n"
        + OUTPUT;
    let a = parse::action_page("docs/api/x/1/Demo.md", &text).unwrap_or_else(|e| panic!("{e}"));
    assert!(a.idempotent && a.scan_workflow);
    assert_eq!(a.summary, "Do the demo");
    assert_eq!(a.description, "Demo action. Second sentence.");
    assert_eq!(a.region_required, Some(true));
    assert!(a.input.is_empty());
    let bad = text.replace("- Idempotent: Yes", "- Idempotent: Sometimes");
    let e = parse_err(&bad);
    assert!(
        e.starts_with("docs/api/x/1/Demo.md:7: `Idempotent` must be Yes or No, got `Sometimes`"),
        "{e}"
    );
}

#[test]
fn page_title_and_output_request_id_are_checked() {
    let e = parse_err(
        &page("| Parameter | Required | Type | Description |\n|---|---|---|---|\n")
            .replace("# Demo", "# Other"),
    );
    assert!(
        e.starts_with(
            "docs/api/x/1/Demo.md:1: page title `Other` does not match the file name (`Demo`)"
        ),
        "{e}"
    );
    let e = parse_err(
        &page("| Parameter | Required | Type | Description |\n|---|---|---|---|\n")
            .replace("| RequestId | String | Request ID. |\n", ""),
    );
    assert!(
        e.contains("output parameter table must list `RequestId`"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// Robustness: malformed pages never panic the parser (they fail with `file:line`).

/// Deterministic mutations of every real page: each line deleted, the page cut after each line,
/// and each line with its first `|`, `` ` ``, `{`, `}`, `[`, `]`, `"` or `:` removed or doubled. Each mutant must parse or fail with a `file:line: ` message, never panic.
#[test]
fn mutated_pages_never_panic() {
    let mut pages: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(crate::project_root().join(API_DIR))
        .unwrap()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().to_string();
        let text = std::fs::read_to_string(entry.path()).unwrap();
        pages.push((format!("{API_DIR}/{name}"), text));
    }
    let (zh_file, zh_text) = fixture("CreateScanInstances.zh.md");
    pages.push((zh_file, zh_text));
    pages.sort();
    assert!(pages.len() >= 30, "{}", pages.len());

    let parse_any = |file: &str, text: &str| -> Result<(), String> {
        let name = file.rsplit('/').next().unwrap_or(file);
        match name {
            "data-structures.md" => parse::structures_page(file, text).map(drop),
            "error-codes.md" => parse::errors_page(file, text, false).map(drop),
            "common-errors.md" => parse::errors_page(file, text, true).map(drop),
            _ => parse::action_page(file, text).map(drop),
        }
    };
    let mut mutants = 0usize;
    for (file, text) in &pages {
        let lines: Vec<&str> = text.lines().collect();
        let mut variants: Vec<String> = Vec::new();
        for i in 0..lines.len() {
            let mut without = lines.clone();
            without.remove(i);
            variants.push(without.join("\n"));
            variants.push(lines[..=i].join("\n"));
            for ch in ['|', '`', '{', '}', '[', ']', '"', ':'] {
                if let Some(at) = lines[i].find(ch) {
                    let mut removed = lines.clone();
                    let mut changed = lines[i].to_string();
                    changed.remove(at);
                    removed[i] = &changed;
                    variants.push(removed.join("\n"));
                    let mut doubled_line = lines[i].to_string();
                    doubled_line.insert(at, ch);
                    let mut doubled = lines.clone();
                    doubled[i] = &doubled_line;
                    variants.push(doubled.join("\n"));
                }
            }
        }
        for v in variants {
            mutants += 1;
            let result = std::panic::catch_unwind(|| parse_any(file, &v));
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => assert!(
                    e.lines().all(|l| l.starts_with(&format!("{file}:"))),
                    "error without {file}:line: {e}"
                ),
                Err(_) => panic!("parser panicked on a mutant of {file}:\n{v}"),
            }
        }
    }
    assert!(mutants > 10_000, "{mutants}");
}

#[test]
fn rustfmt_failures_are_reported_clearly() {
    let e = rustfmt_with("/nonexistent/rustfmt", "actions.rs", "fn main() {}").unwrap_err();
    assert!(
        e.starts_with(
            "cannot run rustfmt (`/nonexistent/rustfmt`) to format generated actions.rs: "
        ),
        "{e}"
    );
    assert!(e.contains("rustup component add rustfmt"), "{e}");
    // A rustfmt that rejects the input: the status and its stderr are shown.
    let e = rustfmt_with("rustfmt", "schemas.rs", "fn main( {").unwrap_err();
    assert!(
        e.starts_with("rustfmt (`rustfmt`) failed on generated schemas.rs (exit status: "),
        "{e}"
    );
    assert!(e.lines().count() > 1, "stderr is included: {e}");
    // And a working one formats.
    assert_eq!(
        rustfmt_with("rustfmt", "mod.rs", "fn  f( ){}").unwrap(),
        "fn f() {}\n"
    );
}

#[test]
fn secret_tag_parses_and_needs_a_string() {
    let text = page(
        "| Parameter | Required | Type | Description |\n|---|---|---|---|\n| Key | Yes | String | k `{secret: true}` |\n",
    );
    let a = parse::action_page("docs/api/x/1/Demo.md", &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.input[0].constraints, vec![Constraint::Secret]);
    let e = parse_err(&page(
        "| Parameter | Required | Type | Description |\n|---|---|---|---|\n| Key | Yes | String | k `{secret: yes}` |\n",
    ));
    assert!(
        e.starts_with(
            "docs/api/x/1/Demo.md:11: unparsable constraint `secret`: expected `true`, got `yes`"
        ),
        "{e}"
    );
    let t = TempApi::new("secret");
    t.edit(
        "CreateCosSecKeyInstance.md",
        "| ExpireTime | Integer | [uint64] Credential expiry time. |",
        "| ExpireTime | Integer | [uint64] Credential expiry time. `{secret: true}` |",
    );
    let line = line_of(&t, "CreateCosSecKeyInstance.md", "| ExpireTime |");
    let e = t.load().unwrap_err();
    assert_eq!(
        e,
        format!(
            "docs/api/ms/2018-04-08/CreateCosSecKeyInstance.md:{line}: member `ExpireTime` of CreateCosSecKeyInstance output: `secret` needs a String type"
        )
    );
}

#[test]
fn temporary_cos_credentials_are_tagged_secret() {
    let api = api();
    let cos = api
        .actions
        .iter()
        .find(|a| a.name == "CreateCosSecKeyInstance")
        .unwrap();
    for name in ["CosKey", "CosToken", "CosTocken"] {
        let m = cos.output.iter().find(|m| m.name == name).unwrap();
        assert!(m.constraints.contains(&Constraint::Secret), "{name}");
    }
}

#[test]
fn task_status_is_one_code_list_used_by_every_task_status_member() {
    let api = api();
    let list = api
        .code_lists
        .iter()
        .find(|l| l.name == "TaskStatus")
        .expect("TaskStatus list");
    let named: Vec<(u64, &str, bool)> = list
        .codes
        .iter()
        .map(|c| (c.value, c.name.as_str(), c.is_final))
        .collect();
    assert_eq!(
        named,
        [
            (1, "Completed", true),
            (2, "Processing", false),
            (3, "Error", true),
            (4, "Timeout", true)
        ]
    );
    // Every TaskStatus member of the tables carries the list.
    let members = api
        .structures
        .iter()
        .flat_map(|s| &s.members)
        .chain(api.actions.iter().flat_map(|a| &a.output));
    let mut tagged = 0;
    for m in members.filter(|m| m.name == "TaskStatus") {
        assert!(
            m.constraints
                .contains(&Constraint::Codes("TaskStatus".into())),
            "{}",
            m.pos
        );
        tagged += 1;
    }
    assert_eq!(tagged, 4);
}

#[test]
fn safe_type_is_a_code_list_of_verdicts_without_final_states() {
    let api = api();
    let list = api
        .code_lists
        .iter()
        .find(|l| l.name == "SafeType")
        .expect("SafeType list");
    assert!(!list.has_final);
    let named: Vec<(u64, &str)> = list
        .codes
        .iter()
        .map(|c| (c.value, c.name.as_str()))
        .collect();
    assert_eq!(named, [(1, "Safe"), (2, "Risky"), (3, "Virus")]);
    // Both integer SafeType members carry it (the callback's digit string cannot).
    let tagged: Vec<&str> = api
        .structures
        .iter()
        .filter(|s| {
            s.members.iter().any(|m| {
                m.name == "SafeType"
                    && m.constraints
                        .contains(&Constraint::Codes("SafeType".into()))
            })
        })
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(tagged, ["AppScanSet", "VirusInfo"]);
    // `is_final()` only for the lists of states.
    let code = emit::codes_rs(&api);
    let safe_type = &code[code.find("pub enum SafeType").expect("enum")..];
    assert!(!safe_type.contains("is_final"), "{safe_type}");
    assert!(code.contains("TaskStatus::Completed | TaskStatus::Error | TaskStatus::Timeout"));
}

#[test]
fn code_lists_are_checked_against_their_members() {
    let t = TempApi::new("codes");
    t.edit(
        "code-lists.md",
        "| 4 | Timeout | Yes |",
        "| 5 | Timeout | Yes |",
    );
    t.edit(
        "data-structures.md",
        "| AppSize | Integer | No | [uint64] App size. |",
        "| AppSize | Integer | No | [uint64] App size. `{codes: NoSuchList}` |",
    );
    t.edit(
        "data-structures.md",
        "| AppName | String | No | App name. |",
        "| AppName | String | No | App name. `{codes: TaskStatus}` |",
    );
    let e = t.load().unwrap_err();
    assert!(
        e.contains("code `5` (Timeout) of `TaskStatus` is not in the member's `enum`"),
        "{e}"
    );
    assert!(
        e.contains("code list `NoSuchList` is not defined in code-lists.md"),
        "{e}"
    );
    assert!(e.contains("`codes` needs an integer type"), "{e}");
    let t = TempApi::new("codes-table");
    t.edit(
        "code-lists.md",
        "| 2 | Processing | No |",
        "| 1 | Processing | No |",
    );
    let e = t.load().unwrap_err();
    assert!(e.contains("duplicate code `1` / `Processing`"), "{e}");
}
