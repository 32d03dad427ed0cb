//! `ms configure`: writes credentials to a profile of the credentials file
//! (`TENCENTCLOUD_CREDENTIALS_FILE`, else `~/.tencentcloud/credentials`), mode 0600.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{Render, Table};

/// Arguments of `ms configure`. Debug shows the SecretId only; key and token are redacted.
#[derive(Clone, Args)]
#[command(after_help = "\
The profile is chosen with the global --profile (default: default).
Values not given as options are asked for on the terminal, or read one per line from
standard input (SecretId, then SecretKey), e.g.:
  printf '%s\\n%s\\n' \"$ID\" \"$KEY\" | ms configure --profile ci")]
pub struct ConfigureArgs {
    /// The SecretId (AKID...)
    #[arg(long, value_name = "ID")]
    pub secret_id: Option<String>,
    /// The SecretKey (prefer standard input: options are visible in the process list)
    #[arg(long, value_name = "KEY")]
    pub secret_key: Option<String>,
    /// A session token for temporary credentials
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Default region stored with the profile
    #[arg(long = "default-region", value_name = "REGION")]
    pub default_region: Option<String>,
}

impl std::fmt::Debug for ConfigureArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("ConfigureArgs")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &redacted(&self.secret_key))
            .field("token", &redacted(&self.token))
            .field("default_region", &self.default_region)
            .finish()
    }
}

/// The credentials file: `TENCENTCLOUD_CREDENTIALS_FILE`, else `$HOME/.tencentcloud/credentials`.
pub fn credentials_path() -> CliResult<PathBuf> {
    if let Some(p) = std::env::var_os("TENCENTCLOUD_CREDENTIALS_FILE").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            CliError::usage("HOME is not set")
                .with_hint("set TENCENTCLOUD_CREDENTIALS_FILE to choose the file")
        })?;
    Ok(Path::new(&home).join(".tencentcloud").join("credentials"))
}

struct Saved {
    profile: String,
    path: PathBuf,
}

impl Render for Saved {
    fn json(&self) -> serde_json::Value {
        json!({"Profile": self.profile, "Path": self.path.display().to_string()})
    }
    fn table(&self) -> Table {
        let mut t = Table::new(["PROFILE", "FILE"]);
        t.push([self.profile.clone(), self.path.display().to_string()]);
        t
    }
}

fn ask(
    label: &str,
    lines: &mut dyn Iterator<Item = std::io::Result<String>>,
    tty: bool,
) -> CliResult<Option<String>> {
    if tty {
        errp!("{label}: ");
        let _ = std::io::stderr().flush();
    }
    match lines.next() {
        Some(Ok(line)) => Ok(Some(line.trim().to_owned()).filter(|l| !l.is_empty())),
        Some(Err(e)) => Err(CliError::usage(format!(
            "cannot read {label} from standard input: {e}"
        ))),
        None => Ok(None),
    }
}

/// Turns terminal echo on or off with `stty`; false when that is not possible.
fn set_echo(on: bool) -> bool {
    std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Writes the profile.
pub fn exec(ctx: &mut Ctx, args: ConfigureArgs) -> CliResult<()> {
    let profile = ctx.global.profile.trim().to_owned();
    if profile.is_empty() || profile.contains(['[', ']', '\n']) {
        return Err(CliError::usage(format!(
            "--profile: invalid profile name {profile:?}"
        )));
    }
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let mut lines = stdin.lock().lines();
    let secret_id = match args.secret_id {
        Some(v) => Some(v.trim().to_owned()),
        None => ask("SecretId", &mut lines, tty)?,
    };
    let secret_key = match args.secret_key {
        Some(v) => Some(v.trim().to_owned()),
        None => {
            // Do not echo the key on a terminal.
            let hidden = tty && set_echo(false);
            let key = ask("SecretKey", &mut lines, tty);
            if hidden {
                set_echo(true);
                errln!();
            }
            key?
        }
    };
    let secret_id = secret_id.filter(|v| !v.is_empty()).ok_or_else(|| {
        CliError::usage("no SecretId given")
            .with_hint("pass --secret-id or write it on the first line of standard input")
    })?;
    let secret_key = secret_key.filter(|v| !v.is_empty()).ok_or_else(|| {
        CliError::usage("no SecretKey given")
            .with_hint("pass --secret-key or write it on the second line of standard input")
    })?;
    if secret_id.contains(char::is_whitespace) {
        return Err(CliError::usage("SecretId: must not contain whitespace"));
    }
    if secret_key.contains(char::is_whitespace) {
        return Err(CliError::usage("SecretKey: must not contain whitespace"));
    }
    let path = credentials_path()?;
    let mut ini = match std::fs::read_to_string(&path) {
        Ok(text) => ini::Ini::load_from_str(&text).map_err(|e| {
            CliError::usage(format!(
                "{}: cannot parse the existing file: {e}",
                path.display()
            ))
            .with_hint("fix or move the file, then run `ms configure` again")
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ini::Ini::new(),
        Err(e) => return Err(CliError::file(&path, "read", &e)),
    };
    {
        let mut section = ini.with_section(Some(profile.as_str()));
        section
            .set("secret_id", secret_id.as_str())
            .set("secret_key", secret_key.as_str());
    }
    if let Some(token) = args.token.filter(|t| !t.trim().is_empty()) {
        ini.with_section(Some(profile.as_str()))
            .set("token", token.trim());
    }
    if let Some(region) = args.default_region.filter(|r| !r.trim().is_empty()) {
        ini.with_section(Some(profile.as_str()))
            .set("region", region.trim());
    }
    let mut text = Vec::new();
    ini.write_to(&mut text)
        .map_err(|e| CliError::usage(format!("cannot format the credentials file: {e}")))?;
    write_private(&path, &text)?;
    ctx.printer.print(&Saved { profile, path })
}

/// Writes a file readable only by its owner (0600), atomically (temp file + rename).
pub fn write_private(path: &Path, contents: &[u8]) -> CliResult<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::file(dir, "create the directory", &e))?;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("credentials"),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CliError::file(path, "write", &e)
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[test]
    fn debug_of_the_parsed_command_line_hides_key_and_token() {
        let cli = crate::cli::Cli::try_parse_from([
            "ms",
            "configure",
            "--secret-id",
            "AKIDvisible",
            "--secret-key",
            "key-must-not-show",
            "--token",
            "token-must-not-show",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(shown.contains("AKIDvisible"), "{shown}");
        assert!(!shown.contains("must-not-show"), "{shown}");
    }
}
