//! The `partner-center` command line: `serve`, `migrate`, `openapi`, `token`, `seed`.

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use domain::email::EmailAddress;
use domain::principal::Principal;
use persistence::repos::{idempotency, outbox, webhooks};
use persistence::{DatabaseUrl, migrate};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::{
    AuthSettings, MailSettings, RateLimitSettings, ServeSettings, Settings, parse_bind,
    parse_rate_limit,
};
use crate::server::Application;
use crate::webhooks::{WebhookSettings, parse_duration};
use crate::{clock, db, openapi, request_context, startup};
use domain::webhooks::RetryPolicy;

#[derive(Debug, Parser)]
#[command(
    name = "partner-center",
    version,
    about = "A self-hostable, headless Partner Center API.",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// sqlite://<file> (embedded, the default) or postgres://<user>@<host>/<database>.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://partner-center.db",
        global = true
    )]
    database_url: String,
    /// HS256 secret for the embedded issuer (at least 32 bytes). Unset: generated once and kept
    /// in a 0600 file beside the SQLite database (or in PC_DATA_DIR).
    #[arg(long, env = "PC_JWT_SECRET", hide_env_values = true, global = true)]
    jwt_secret: Option<String>,
    /// `iss` of tokens the service signs, and required of tokens without a `kid`.
    #[arg(
        long,
        env = "PC_JWT_ISSUER",
        default_value = "partner-center",
        global = true
    )]
    jwt_issuer: String,
    /// `aud` every token must carry.
    #[arg(
        long,
        env = "PC_JWT_AUDIENCE",
        default_value = "partner-center-api",
        global = true
    )]
    jwt_audience: String,
    /// JWKS file with the external issuer's RS256/ES256 public keys (looked up by `kid`).
    #[arg(long, env = "PC_JWKS_FILE", global = true)]
    jwks_file: Option<PathBuf>,
    /// `iss` required of tokens signed with a PC_JWKS_FILE key.
    #[arg(long, env = "PC_JWKS_ISSUER", global = true)]
    jwks_issuer: Option<String>,
    /// Where the generated signing key is kept when the database is PostgreSQL.
    #[arg(long, env = "PC_DATA_DIR", default_value = ".", global = true)]
    data_dir: PathBuf,
    /// SMTP server for outgoing mail (smtp://host:port, smtp://user:pass@host:587?tls=required,
    /// smtps://...). Unset: mail is written as .eml files into <PC_DATA_DIR>/mail.
    #[arg(long, env = "PC_SMTP_URL", hide_env_values = true, global = true)]
    smtp_url: Option<String>,
    /// Sender of outgoing mail.
    #[arg(
        long,
        env = "PC_MAIL_FROM",
        default_value = "Partner Center <partner-center@localhost>",
        global = true
    )]
    mail_from: String,

    /// Allow webhook URLs over plain http and on loopback or private addresses (tests,
    /// closed networks). Off: only https URLs that resolve to public addresses.
    #[arg(long, env = "PC_WEBHOOK_ALLOW_INSECURE_URLS", global = true)]
    webhook_allow_insecure_urls: bool,

    /// First retry delay of a failed webhook delivery; it doubles up to PC_WEBHOOK_RETRY_CAP.
    #[arg(
        long,
        env = "PC_WEBHOOK_RETRY_BASE",
        default_value = "30s",
        global = true
    )]
    webhook_retry_base: String,

    #[arg(
        long,
        env = "PC_WEBHOOK_RETRY_CAP",
        default_value = "6h",
        global = true
    )]
    webhook_retry_cap: String,

    /// How long a delivery is retried after its first attempt.
    #[arg(
        long,
        env = "PC_WEBHOOK_RETRY_PERIOD",
        default_value = "3d",
        global = true
    )]
    webhook_retry_period: String,

    /// An endpoint failing every attempt for this long is disabled.
    #[arg(
        long,
        env = "PC_WEBHOOK_DISABLE_AFTER",
        default_value = "3d",
        global = true
    )]
    webhook_disable_after: String,

    /// How long a replica holds a claimed delivery (longer than the timeout).
    #[arg(long, env = "PC_WEBHOOK_LEASE", default_value = "60s", global = true)]
    webhook_lease: String,

    /// One delivery attempt's time limit.
    #[arg(long, env = "PC_WEBHOOK_TIMEOUT", default_value = "10s", global = true)]
    webhook_timeout: String,

    /// How long an Idempotency-Key claim holds off retries of a request still running; a retry
    /// after that takes the key over (its first request died, e.g. in a crash). Longer than any
    /// request runs.
    #[arg(
        long,
        env = "PC_IDEMPOTENCY_LEASE",
        default_value = "60s",
        global = true
    )]
    idempotency_lease: String,

    /// How often each replica looks for due deliveries.
    #[arg(long, env = "PC_WEBHOOK_POLL", default_value = "1s", global = true)]
    webhook_poll: String,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (applies pending migrations first unless --no-migrate).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi {
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
    },
    /// Print a bearer token signed with the embedded key.
    Token(TokenArgs),
    /// Fill an empty database with a realistic dataset (benchmarks, demos); prints a JSON
    /// summary naming the accounts to sign in to.
    Seed(SeedArgs),
}

#[derive(Debug, Args)]
struct SeedArgs {
    /// Partner accounts to create; account 0 is the "large" one.
    #[arg(long)]
    accounts: u32,
    /// Skilling completions credited to the large account (its GET /v1/skilling list);
    /// every other account gets a few of its own on top.
    #[arg(long, default_value_t = 0)]
    completions: u64,
    /// Orders spread over the verified accounts (Action Pack purchases, renewals, declined
    /// card attempts).
    #[arg(long, default_value_t = 0)]
    orders: u64,
    /// Seed of the content (names, states, dates): the same seed gives the same dataset.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Also write the JSON summary to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PC_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// HTTP worker threads (default: one per CPU).
    #[arg(long, env = "PC_WORKERS")]
    workers: Option<usize>,
    /// Database connections in the pool.
    #[arg(long, env = "PC_DB_POOL_SIZE", default_value_t = 16)]
    pool_size: u32,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(long, env = "PC_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    shutdown_timeout: u64,
    /// Do not apply migrations at start-up (run `partner-center migrate` separately).
    #[arg(long, env = "PC_NO_MIGRATE")]
    no_migrate: bool,
    /// Requests per principal (user, app or operator): <requests>/<window> (s, m or h), or off.
    #[arg(long, env = "PC_RATE_LIMIT_PRINCIPAL", default_value = "600/60s")]
    rate_limit_principal: String,
    /// Requests shared by all principals of one account, or off.
    #[arg(long, env = "PC_RATE_LIMIT_ACCOUNT", default_value = "3000/60s")]
    rate_limit_account: String,
    /// Requests per client address without a valid token (the token endpoint, bad tokens), or off.
    #[arg(long, env = "PC_RATE_LIMIT_ADDRESS", default_value = "120/60s")]
    rate_limit_address: String,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("principal").required(true).args(["directory", "operator"])))]
struct TokenArgs {
    /// Directory (tenant) id of the user.
    #[arg(long)]
    directory: Option<String>,
    /// Issue an operator token instead of a user token.
    #[arg(long)]
    operator: bool,
    /// The user's or operator's email address.
    #[arg(long)]
    email: String,
    /// Lifetime in seconds (1 to 2592000).
    #[arg(long, default_value_t = 3600)]
    ttl: i64,
}

/// Runs the command line; a failure prints one line and exits non-zero.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::logging::init();
    let outcome = run(cli);
    crate::logging::flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("partner-center: {}", one_line(&message));
            ExitCode::from(2)
        }
    }
}

/// Start-up errors print as one line, even when a library's message spans several (libpq's
/// "connection refused" adds a hint on a second line).
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn settings(global: GlobalArgs) -> Result<Settings, String> {
    Ok(Settings {
        database_url: DatabaseUrl::parse(&global.database_url)?,
        auth: AuthSettings {
            jwt_secret: global.jwt_secret,
            issuer: global.jwt_issuer,
            audience: global.jwt_audience,
            jwks_file: global.jwks_file,
            jwks_issuer: global.jwks_issuer,
        },
        mail: MailSettings {
            smtp_url: global.smtp_url,
            from: global.mail_from,
            drop_dir: global.data_dir.join("mail"),
        },
        data_dir: global.data_dir,
        idempotency_lease: idempotency_lease(&global.idempotency_lease)?,
        webhooks: webhook_settings(
            global.webhook_allow_insecure_urls,
            [
                ("PC_WEBHOOK_RETRY_BASE", &global.webhook_retry_base),
                ("PC_WEBHOOK_RETRY_CAP", &global.webhook_retry_cap),
                ("PC_WEBHOOK_RETRY_PERIOD", &global.webhook_retry_period),
                ("PC_WEBHOOK_DISABLE_AFTER", &global.webhook_disable_after),
                ("PC_WEBHOOK_LEASE", &global.webhook_lease),
                ("PC_WEBHOOK_TIMEOUT", &global.webhook_timeout),
                ("PC_WEBHOOK_POLL", &global.webhook_poll),
            ],
        )?,
    })
}

fn idempotency_lease(raw: &str) -> Result<chrono::Duration, String> {
    let lease = parse_duration("PC_IDEMPOTENCY_LEASE", raw)?;
    if lease < chrono::Duration::seconds(1) || lease > chrono::Duration::hours(24) {
        return Err(format!(
            "PC_IDEMPOTENCY_LEASE {raw:?} must be between 1s and 24h"
        ));
    }
    Ok(lease)
}

fn webhook_settings(
    allow_insecure_urls: bool,
    raw: [(&str, &String); 7],
) -> Result<WebhookSettings, String> {
    let durations = raw
        .iter()
        .map(|(name, value)| parse_duration(name, value))
        .collect::<Result<Vec<_>, _>>()?;
    let [base, cap, period, disable_after, lease, timeout, poll] = durations[..] else {
        return Err("webhook settings: seven durations expected".into());
    };
    let to_std = |name: &str, d: chrono::Duration| {
        d.to_std()
            .map_err(|_| format!("{name} must be longer than zero"))
    };
    let settings = WebhookSettings {
        allow_insecure_urls,
        retry: RetryPolicy {
            base,
            cap,
            give_up_after: period,
        },
        disable_after,
        lease,
        timeout: to_std("PC_WEBHOOK_TIMEOUT", timeout)?,
        poll: to_std("PC_WEBHOOK_POLL", poll)?,
    };
    settings.check()?;
    Ok(settings)
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Openapi { format } => {
            let document = openapi::spec();
            let text = match format {
                Format::Yaml => document.to_yaml().map_err(|e| e.to_string())?,
                Format::Json => document.to_pretty_json().map_err(|e| e.to_string())?,
            };
            print!("{text}");
            Ok(())
        }
        Command::Migrate => {
            let settings = settings(cli.global)?;
            let _lock = persistence::connection::exclusive_use(&settings.database_url)?;
            let applied = migrate::run_pending(&settings.database_url)?;
            if applied.is_empty() {
                println!("{}: no pending migrations", settings.database_url);
            } else {
                println!("{}: applied {}", settings.database_url, applied.join(", "));
            }
            let pool = persistence::DbPool::build(&settings.database_url, 1)?;
            let catalog = crate::startup::load_catalog(&pool)?;
            println!(
                "{}: catalog version {} loaded",
                settings.database_url, catalog.catalog_version
            );
            Ok(())
        }
        Command::Token(args) => token(settings(cli.global)?, args),
        Command::Seed(args) => seed(settings(cli.global)?, args),
        Command::Serve(args) => serve(settings(cli.global)?, args),
    }
}

fn token(settings: Settings, args: TokenArgs) -> Result<(), String> {
    if !(1..=2_592_000).contains(&args.ttl) {
        return Err("--ttl must be between 1 and 2592000 seconds".into());
    }
    let email = EmailAddress::parse(&args.email)
        .map_err(|e| format!("--email {:?} {}", args.email, e.message))?;
    let principal = match args.directory {
        Some(directory) => Principal::User {
            email,
            directory: directory
                .parse()
                .map_err(|_| format!("--directory {directory:?} is not a UUID"))?,
        },
        None => Principal::Operator { email },
    };
    let tokens = startup::token_service(&settings)?;
    let token = tokens.issue(
        &principal,
        clock::now(),
        chrono::Duration::seconds(args.ttl),
    )?;
    println!("{token}");
    Ok(())
}

fn seed(settings: Settings, args: SeedArgs) -> Result<(), String> {
    let _lock = persistence::connection::exclusive_use(&settings.database_url)?;
    let summary = crate::seed::run(
        &settings.database_url,
        crate::seed::Plan {
            accounts: args.accounts,
            completions: args.completions,
            orders: args.orders,
            seed: args.seed,
        },
    )?;
    let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
    if let Some(out) = &args.out {
        std::fs::write(out, format!("{text}\n"))
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    println!("{text}");
    Ok(())
}

fn serve(settings: Settings, args: ServeArgs) -> Result<(), String> {
    let serve = ServeSettings {
        bind: parse_bind(&args.bind)?,
        workers: match args.workers {
            Some(0) => return Err("PC_WORKERS must be at least 1".into()),
            Some(workers) => workers,
            None => std::thread::available_parallelism().map_or(2, usize::from),
        },
        pool_size: match args.pool_size {
            1..=1024 => args.pool_size,
            _ => return Err("PC_DB_POOL_SIZE must be between 1 and 1024".into()),
        },
        shutdown_timeout_seconds: args.shutdown_timeout,
        migrate_on_start: !args.no_migrate,
        rate_limits: RateLimitSettings {
            principal: parse_rate_limit("PC_RATE_LIMIT_PRINCIPAL", &args.rate_limit_principal)?,
            account: parse_rate_limit("PC_RATE_LIMIT_ACCOUNT", &args.rate_limit_account)?,
            address: parse_rate_limit("PC_RATE_LIMIT_ADDRESS", &args.rate_limit_address)?,
        },
    };
    // Held until the process ends: answers kept between requests rely on it (see
    // `persistence::changes`).
    let _lock = persistence::connection::exclusive_use(&settings.database_url)?;
    let state = startup::prepare(&settings, serve.pool_size, serve.migrate_on_start)?;
    request_context::install_panic_hook();
    let database = settings.database_url.to_string();
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(state.clone(), &serve, None)?;
        log::info!(
            "partner-center {} on {database}; listening on {}:{}",
            env!("CARGO_PKG_VERSION"),
            serve.bind.ip(),
            app.port()
        );
        actix_web::rt::spawn(purge_expired_records(state));
        app.run().await.map_err(|e| format!("server failed: {e}"))
    })
}

/// Every ten minutes: deletes idempotency keys past their 24-hour retention, mail delivered
/// more than 30 days ago, and expired undelivered mail.
async fn purge_expired_records(state: crate::state::AppState) {
    let mut tick = actix_web::rt::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let purged = db::run(&state, |conn| {
            Ok(idempotency::purge_expired(conn, clock::now())?)
        })
        .await;
        match purged {
            Ok(0) => {}
            Ok(count) => log::info!("purged {count} expired idempotency keys"),
            Err(error) => log::warn!("idempotency key purge failed: {error}"),
        }
        // Delivered mail is kept 30 days as a delivery log, without its body; expired mail
        // that could not be delivered goes as soon as it expires.
        let purged = db::run(&state, |conn| {
            let now = clock::now();
            Ok(outbox::purge(conn, now - chrono::Duration::days(30), now)?)
        })
        .await;
        if let Err(error) = purged {
            log::warn!("mail purge failed: {error}");
        }
        // Webhook deliveries are kept 30 days as the delivery log; events as long, unless a
        // delivery of theirs is still pending.
        let purged = db::run(&state, |conn| {
            Ok(webhooks::purge(
                conn,
                clock::now() - chrono::Duration::days(30),
            )?)
        })
        .await;
        if let Err(error) = purged {
            log::warn!("webhook log purge failed: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn multi_line_messages_fold_into_one() {
        assert_eq!(
            one_line("connection refused\n\tIs the server running?\n"),
            "connection refused Is the server running?"
        );
    }
}
