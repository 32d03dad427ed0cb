//! `ms scan list`: scanned apps (DescribeScanInstances), filtered, one page or all.

use clap::Args;
use futures_util::StreamExt;
use ms_model::{DescribeScanInstancesRequest, Filter};
use serde_json::{Value, json};

use crate::context::{Ctx, transport_error};
use crate::error::{CliError, CliResult};
use crate::output::{Render, Table};
use crate::scan::app_scan_table;

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first (the service's default).
    Desc,
}

/// Arguments of `ms scan list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only apps with this name (AppName filter)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Only apps with this package name (AppPkgName filter)
    #[arg(long, value_name = "PACKAGE")]
    pub package: Option<String>,
    /// Only these tasks (repeatable; cannot be combined with --name/--package)
    #[arg(long = "item-id", value_name = "ITEM_ID", conflicts_with_all = ["name", "package"])]
    pub item_ids: Vec<String>,
    /// Skip this many records
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub offset: u64,
    /// Records per page (1-100)
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100))]
    pub limit: u64,
    /// Fetch every page
    #[arg(long)]
    pub all: bool,
    /// Order by submission time
    #[arg(long, value_enum, value_name = "ORDER")]
    pub order: Option<Order>,
}

struct ListView {
    total: u64,
    scan_set: Vec<Value>,
    request_id: Option<String>,
}

impl Render for ListView {
    fn json(&self) -> Value {
        let mut v = json!({"TotalCount": self.total, "ScanSet": self.scan_set});
        if let Some(id) = &self.request_id {
            v["RequestId"] = json!(id);
        }
        v
    }
    fn table(&self) -> Table {
        app_scan_table(&self.scan_set)
    }
}

/// Lists the apps.
pub async fn exec(ctx: &mut Ctx, args: ListArgs) -> CliResult<()> {
    let mut filters = Vec::new();
    if let Some(name) = &args.name {
        filters.push(Filter {
            name: "AppName".to_owned(),
            value: Some(name.clone()),
        });
    }
    if let Some(pkg) = &args.package {
        filters.push(Filter {
            name: "AppPkgName".to_owned(),
            value: Some(pkg.clone()),
        });
    }
    let client = ctx.client().await?;
    let req = DescribeScanInstancesRequest {
        filters: (!filters.is_empty()).then_some(filters),
        offset: Some(args.offset),
        limit: Some(if args.all { 100 } else { args.limit }),
        item_ids: (!args.item_ids.is_empty()).then(|| args.item_ids.clone()),
        order_field: args.order.map(|_| "TaskTime".to_owned()),
        order_direction: args.order.map(|o| match o {
            Order::Asc => "asc".to_owned(),
            Order::Desc => "desc".to_owned(),
        }),
    };
    let mut view = ListView {
        total: 0,
        scan_set: Vec::new(),
        request_id: None,
    };
    if args.all {
        // Every page from --offset on, 100 apps per request.
        let mut pages = std::pin::pin!(ms_transport::paginate_pages(&client, req));
        while let Some(page) = pages.next().await {
            let page = page.map_err(transport_error)?;
            view.total = page.total_count.unwrap_or(0);
            for app in page.items {
                view.scan_set.push(answer_json(&app)?);
            }
        }
    } else {
        let value = answer_json(&client.send(&req).await.map_err(transport_error)?)?;
        view.total = value.get("TotalCount").and_then(Value::as_u64).unwrap_or(0);
        view.scan_set = value
            .get("ScanSet")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        view.request_id = value
            .get("RequestId")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    ctx.printer.print(&view)
}

fn answer_json(value: &impl serde::Serialize) -> CliResult<Value> {
    serde_json::to_value(value)
        .map_err(|e| CliError::remote(format!("cannot read the answer: {e}")))
}
