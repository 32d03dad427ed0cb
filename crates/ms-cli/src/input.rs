//! The apps to submit: one app from arguments, local APK files, or a manifest read once,
//! entry by entry — a file, a pipe, a FIFO, `<(...)` or standard input — each entry checked
//! with the manifest rules and the API model, errors naming the entry and its line.

use std::path::PathBuf;

use ms_model::{AppInfo, Validate};

use crate::apk::{UrlSpec, expand_paths, local_app};
use crate::commands::submit::SubmitArgs;
use crate::error::{CliError, CliResult};
use crate::manifest::{ManifestApp, ManifestError, ManifestFormat, ManifestSource};

/// Where the apps come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// `--url/--md5/...`: one app, already checked.
    One(Box<AppInfo>),
    /// `--apk PATH...`: local files (MD5 and size computed as they are read).
    Apks {
        /// The files (directories expanded).
        files: Vec<PathBuf>,
        /// How their URLs are made.
        spec: UrlSpec,
    },
    /// `--manifest FILE|-`.
    Manifest {
        /// The file or stdin.
        source: ManifestSource,
        /// Its format.
        format: ManifestFormat,
    },
}

/// The apps of an input, in order; stops after the first error.
pub type Apps = Box<dyn Iterator<Item = CliResult<AppInfo>> + Send>;

/// Converts a manifest entry to the API's AppInfo.
pub fn app_info(app: ManifestApp) -> AppInfo {
    AppInfo {
        app_url: app.url,
        app_md5: app.md5,
        app_size: app.size,
        file_name: app.file_name,
        app_pkg_name: app.package,
        app_version: app.version,
        app_icon_url: app.icon_url,
        app_name: app.name,
    }
}

/// A problem in a manifest entry, as a usage error with a hint.
pub fn manifest_error(e: ManifestError) -> CliError {
    CliError::usage(format!("manifest {e}"))
        .with_hint("fix the entry; each app needs url (http/https) and md5 (32 hex digits); see `ms scan submit --help`")
}

impl Input {
    /// The input the arguments name (`None` when they name none: resuming a journal).
    /// Checks what can be checked without reading (the URL prefix or template, the one
    /// app of `--url`); local files are listed (directories expanded).
    pub fn from_args(args: &SubmitArgs) -> CliResult<Option<Self>> {
        if let Some(url) = &args.url {
            let app = ManifestApp {
                url: url.clone(),
                md5: args.md5.clone().unwrap_or_default(),
                size: args.size,
                name: args.name.clone(),
                package: args.package.clone(),
                version: args.app_version.clone(),
                ..ManifestApp::default()
            }
            .validate()
            .map_err(|m| CliError::usage(format!("--url/--md5: {m}")))?;
            let app = app_info(app);
            app.validate()
                .map_err(|e| CliError::usage(format!("--url/--md5/...: {e}")))?;
            return Ok(Some(Input::One(Box::new(app))));
        }
        if !args.apk.is_empty() {
            let spec = match (&args.url_prefix, &args.url_template) {
                (Some(p), _) => UrlSpec::Prefix(p.clone()),
                (None, Some(t)) => UrlSpec::Template(t.clone()),
                (None, None) => {
                    return Err(CliError::usage("--apk needs --url-prefix or --url-template")
                        .with_hint("the service downloads each app by URL: publish the files, then give their base URL with --url-prefix"));
                }
            };
            spec.check()?;
            let files = expand_paths(&args.apk)?;
            return Ok(Some(Input::Apks { files, spec }));
        }
        Ok(args.manifest.as_ref().map(|path| Input::Manifest {
            source: ManifestSource::from_arg(path),
            format: args.manifest_format,
        }))
    }

    /// Reads the apps (once, streamed). Opening errors here; entry errors in the stream.
    pub fn read(&self) -> CliResult<Apps> {
        match self {
            Input::One(app) => Ok(Box::new(std::iter::once(Ok((**app).clone())))),
            Input::Apks { files, spec } => {
                let (files, spec) = (files.clone(), spec.clone());
                Ok(Box::new(files.into_iter().map(move |f| {
                    let app = local_app(&f, &spec)?
                        .validate()
                        .map_err(|m| CliError::usage(format!("{}: {m}", f.display())))?;
                    let app = app_info(app);
                    app.validate()
                        .map_err(|e| CliError::usage(format!("{}: {e}", f.display())))?;
                    Ok(app)
                })))
            }
            Input::Manifest { source, format } => {
                let name = source.name();
                // Opening fails only when the file cannot be read or a CSV header is bad
                // (entries are checked as they stream).
                let reader = source.open(*format).map_err(|e| {
                    let hint = if e.line.is_some() {
                        "the first line of a CSV manifest names its columns, separated by commas: url,md5 and any of size, name, package, version, file_name, icon_url"
                    } else {
                        "check the path given to --manifest"
                    };
                    CliError::usage(format!("manifest {e}")).with_hint(hint)
                })?;
                Ok(Box::new(reader.enumerate().map(move |(i, entry)| {
                    let app = app_info(entry.map_err(manifest_error)?);
                    // The API model's rules too, so that nothing the service would refuse
                    // is journaled: a bad manifest submits nothing.
                    app.validate().map_err(|errors| {
                        let problems: Vec<String> =
                            errors.0.iter().map(|v| v.to_string()).collect();
                        manifest_error(ManifestError {
                            source: name.clone(),
                            index: Some(i as u64 + 1),
                            line: None,
                            message: problems.join("; "),
                        })
                    })?;
                    Ok(app)
                })))
            }
        }
    }

    /// Whether the input is a stream that cannot be read again by running the same command
    /// (standard input): the command to resume leaves it out.
    pub fn is_stdin(&self) -> bool {
        matches!(
            self,
            Input::Manifest {
                source: ManifestSource::Stdin,
                ..
            }
        )
    }

    /// The input's name for messages.
    pub fn name(&self) -> String {
        match self {
            Input::One(_) => "--url".to_owned(),
            Input::Apks { .. } => "--apk".to_owned(),
            Input::Manifest { source, .. } => format!("manifest {}", source.name()),
        }
    }
}
