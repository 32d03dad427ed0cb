//! Semantic checks over the parsed model: references, duplicates, constraint applicability.

use std::collections::{BTreeSet, HashMap};

use super::emit::snake_case;
use super::model::{Api, Constraint, Format, Member, Scalar, TypeRef};

/// Checks the whole API; returns every problem found, each starting with `file:line`.
pub(crate) fn check(api: &Api) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    let mut seen: HashMap<&str, &super::model::Pos> = HashMap::new();
    for s in &api.structures {
        if let Some(first) = seen.insert(&s.name, &s.pos) {
            errs.push(format!(
                "{}: duplicate structure `{}` (first defined at {first})",
                s.pos, s.name
            ));
        }
        check_members(
            api,
            &s.members,
            &format!("structure `{}`", s.name),
            &mut errs,
        );
    }
    let mut seen_actions: HashMap<&str, &super::model::Pos> = HashMap::new();
    let codes: BTreeSet<&str> = api.errors.iter().map(|e| e.code.as_str()).collect();
    for a in &api.actions {
        if let Some(first) = seen_actions.insert(&a.name, &a.pos) {
            errs.push(format!(
                "{}: duplicate action `{}` (first at {first})",
                a.pos, a.name
            ));
        }
        if seen.contains_key(a.name.as_str()) {
            errs.push(format!(
                "{}: action `{}` has the same name as a structure",
                a.pos, a.name
            ));
        }
        check_members(api, &a.input, &format!("{} input", a.name), &mut errs);
        check_members(api, &a.output, &format!("{} output", a.name), &mut errs);
        for (code, _, line) in &a.errors {
            if !codes.contains(code.as_str()) {
                errs.push(format!(
                    "{}:{line}: {}: error code `{code}` is not defined in error-codes.md or common-errors.md",
                    a.pos.file, a.name
                ));
            }
        }
        // Root-relative paths (required_when, same_as) in the request and every structure it reaches.
        let mut visited = BTreeSet::new();
        check_root_paths(api, &a.input, &a.input, &a.name, &mut visited, &mut errs);
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn check_members(api: &Api, members: &[Member], owner: &str, errs: &mut Vec<String>) {
    let mut names: HashMap<String, &Member> = HashMap::new();
    let mut snakes: HashMap<String, &Member> = HashMap::new();
    for m in members {
        if let Some(first) = names.insert(m.name.clone(), m) {
            errs.push(format!(
                "{}: duplicate member `{}` in {owner} (first at line {})",
                m.pos, m.name, first.pos.line
            ));
            continue;
        }
        if let Some(first) = snakes.insert(snake_case(&m.name), m) {
            errs.push(format!(
                "{}: duplicate member: `{}` and `{}` in {owner} map to the same Rust field `{}`",
                m.pos,
                first.name,
                m.name,
                snake_case(&m.name)
            ));
        }
        if let TypeRef::Struct(s) = &m.ty
            && api.structure(s).is_none()
        {
            errs.push(format!(
                "{}: member `{}` of {owner} references structure `{s}`, which is not defined in data-structures.md",
                m.pos, m.name
            ));
        }
        for c in &m.constraints {
            if let Err(e) = check_constraint(api, m, members, c) {
                errs.push(format!("{}: member `{}` of {owner}: {e}", m.pos, m.name));
            }
        }
    }
}

fn scalar(m: &Member) -> Option<Scalar> {
    match m.ty {
        TypeRef::Scalar(s) => Some(s),
        TypeRef::Struct(_) => None,
    }
}

fn check_constraint(
    api: &Api,
    m: &Member,
    siblings: &[Member],
    c: &Constraint,
) -> Result<(), String> {
    let sc = scalar(m);
    let is_csv = m.constraints.contains(&Constraint::Format(Format::Csv));
    match c {
        Constraint::Enum(vals) => match sc {
            None => return Err("`enum` needs a String or integer type".into()),
            Some(s) if s.is_integer() => {
                for v in vals {
                    let ok = if s == Scalar::UInt64 {
                        v.parse::<u64>().is_ok()
                    } else {
                        v.parse::<i64>().is_ok()
                    };
                    if !ok {
                        return Err(format!("`enum` value `{v}` is not a valid {s:?}"));
                    }
                }
            }
            Some(_) => {}
        },
        Constraint::MaxItems(_) | Constraint::MinItems(_) => {
            if !m.array && !is_csv {
                return Err("`max_items`/`min_items` need an `Array of` type (or a String with `{format: csv}`)".into());
            }
        }
        Constraint::Max(_) | Constraint::Min(_) => {
            if !sc.is_some_and(Scalar::is_integer) {
                return Err("`max`/`min` need an integer type".into());
            }
        }
        Constraint::Default(v) => match sc {
            None => return Err("`default` needs a scalar type".into()),
            Some(s) if s.is_integer() && v.parse::<i128>().is_err() => {
                return Err(format!("`default` value `{v}` is not an integer"));
            }
            _ => {}
        },
        Constraint::ExclusiveWith(o) | Constraint::Deprecated(o) => {
            if !siblings.iter().any(|s| &s.name == o) {
                return Err(format!("`{o}` is not a member of the same table"));
            }
            if o == &m.name {
                return Err("a member cannot refer to itself".into());
            }
        }
        Constraint::Format(_) | Constraint::Suffix(_) => {
            if sc != Some(Scalar::String) {
                return Err("`format`/`suffix` need a String type".into());
            }
        }
        Constraint::Secret => {
            if sc != Some(Scalar::String) {
                return Err("`secret` needs a String type".into());
            }
        }
        Constraint::AllowEmpty => {
            if sc != Some(Scalar::String) || m.array {
                return Err("`allow_empty` needs a String type".into());
            }
        }
        Constraint::FilterNames(_) => {
            let ok = m.array
                && matches!(&m.ty, TypeRef::Struct(s) if api.structure(s).is_some_and(|st| st.members.iter().any(|x| x.name == "Name")));
            if !ok {
                return Err(
                    "`filter_names` needs an `Array of` a structure with a `Name` member".into(),
                );
            }
        }
        Constraint::RequiredWhen(_) => {
            if m.required {
                return Err("`required_when` on a member that is always required".into());
            }
        }
        Constraint::SameAs(_) => {
            if sc != Some(Scalar::String) || m.array {
                return Err("`same_as` needs a String type".into());
            }
        }
        Constraint::Codes(name) => {
            if !sc.is_some_and(Scalar::is_integer) {
                return Err("`codes` needs an integer type".into());
            }
            let Some(list) = api.code_lists.iter().find(|l| &l.name == name) else {
                return Err(format!(
                    "code list `{name}` is not defined in code-lists.md"
                ));
            };
            // Every named code must be a value the member may take.
            let allowed = m.constraints.iter().find_map(|c| match c {
                Constraint::Enum(v) => Some(v),
                _ => None,
            });
            if let Some(allowed) = allowed
                && let Some(code) = list
                    .codes
                    .iter()
                    .find(|c| !allowed.contains(&c.value.to_string()))
            {
                return Err(format!(
                    "code `{}` ({}) of `{name}` is not in the member's `enum`",
                    code.value, code.name
                ));
            }
        }
    }
    Ok(())
}

/// Resolves `A.B.C` from the request root to a scalar member.
fn resolve<'a>(api: &'a Api, root: &'a [Member], path: &str) -> Option<&'a Member> {
    let mut members = root;
    let mut found = None;
    for (i, seg) in path.split('.').enumerate() {
        let m = members.iter().find(|m| m.name == seg)?;
        if m.array {
            return None;
        }
        found = Some(m);
        match &m.ty {
            TypeRef::Struct(s) => members = &api.structure(s)?.members,
            TypeRef::Scalar(_) if i + 1 < path.split('.').count() => return None,
            TypeRef::Scalar(_) => {}
        }
    }
    found.filter(|m| matches!(m.ty, TypeRef::Scalar(_)))
}

fn check_root_paths(
    api: &Api,
    root: &[Member],
    members: &[Member],
    action: &str,
    visited: &mut BTreeSet<String>,
    errs: &mut Vec<String>,
) {
    for m in members {
        for c in &m.constraints {
            let paths: Vec<&str> = match c {
                Constraint::RequiredWhen(conds) => conds.iter().map(|(p, _)| p.as_str()).collect(),
                Constraint::SameAs(p) => vec![p.as_str()],
                _ => Vec::new(),
            };
            for p in paths {
                if resolve(api, root, p).is_none() {
                    errs.push(format!(
                        "{}: member `{}`: `{p}` does not name a scalar member of the {action} request (paths start at the request root)",
                        m.pos, m.name
                    ));
                }
            }
        }
        if let TypeRef::Struct(s) = &m.ty
            && visited.insert(s.clone())
            && let Some(st) = api.structure(s)
        {
            check_root_paths(api, root, &st.members, action, visited, errs);
        }
    }
}
