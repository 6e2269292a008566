//! Outgoing mail. SMTP when `PC_SMTP_URL` is set (lettre: `smtp://host:port` plain,
//! `smtp://...?tls=required` STARTTLS, `smtps://` implicit TLS, with `user:pass@` for
//! authentication); otherwise each message is written as an `.eml` file into the data
//! directory's `mail/` folder (the embedded default, for local use and tests).
//!
//! Messages are queued in the database by the transaction that causes them (see
//! `persistence::repos::outbox`) and sent by [`run_worker`], with retries and backoff.

use chrono::Duration;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{FileTransport, Message, SmtpTransport, Transport};
use persistence::repos::outbox;
use std::path::PathBuf;

use crate::clock;
use crate::db;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub smtp_url: Option<String>,
    pub from: String,
    pub drop_dir: PathBuf,
}

pub struct Mailer {
    from: Mailbox,
    transport: MailTransport,
}

enum MailTransport {
    Smtp(Box<SmtpTransport>),
    FileDrop(FileTransport),
}

impl Mailer {
    pub fn from_settings(settings: &MailSettings) -> Result<Self, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("PC_MAIL_FROM {:?} is not a mailbox: {e}", settings.from))?;
        let transport = match &settings.smtp_url {
            Some(url) => MailTransport::Smtp(Box::new(
                SmtpTransport::from_url(url)
                    .map_err(|e| format!("PC_SMTP_URL is not a usable SMTP URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            )),
            None => {
                std::fs::create_dir_all(&settings.drop_dir).map_err(|e| {
                    format!(
                        "cannot create the mail folder {}: {e}",
                        settings.drop_dir.display()
                    )
                })?;
                MailTransport::FileDrop(FileTransport::new(&settings.drop_dir))
            }
        };
        Ok(Mailer { from, transport })
    }

    /// Sends one plain-text message; blocking (SMTP or file I/O).
    pub fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("invalid recipient {to:?}: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| format!("cannot build the message: {e}"))?;
        match &self.transport {
            MailTransport::Smtp(smtp) => smtp.send(&message).map(drop).map_err(|e| e.to_string()),
            MailTransport::FileDrop(files) => {
                files.send(&message).map(drop).map_err(|e| e.to_string())
            }
        }
    }
}

/// How often the worker looks for due mail, and how long a claim lasts.
const POLL: std::time::Duration = std::time::Duration::from_millis(250);
const LEASE_SECONDS: i64 = 120;
const BATCH: i64 = 20;

/// Waits before retrying a message that failed `attempts` times: 10 s doubling, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 9)).unwrap_or(9);
    Duration::seconds((10 * 2i64.pow(exponent)).min(3600))
}

/// Sends queued mail until the server stops. Safe to run on every replica: claims are leases.
pub async fn run_worker(state: AppState) {
    loop {
        if let Err(error) = deliver_due(&state).await {
            log::warn!("mail delivery: {error}");
        }
        actix_web::rt::time::sleep(POLL).await;
    }
}

async fn deliver_due(state: &AppState) -> Result<(), String> {
    let due = db::run(state, |conn| {
        Ok(outbox::claim_due(
            conn,
            clock::now(),
            Duration::seconds(LEASE_SECONDS),
            BATCH,
        )?)
    })
    .await
    .map_err(|e| e.to_string())?;
    for message in due {
        let mailer = state.mailer.clone();
        let outgoing = message.clone();
        let sent = actix_web::web::block(move || {
            mailer.send(&outgoing.recipient, &outgoing.subject, &outgoing.body)
        })
        .await
        .map_err(|e| e.to_string())?;
        db::run(state, move |conn| {
            let now = clock::now();
            match sent {
                Ok(()) => outbox::mark_sent(conn, &message, now)?,
                Err(error) => {
                    log::warn!(
                        "could not send mail (attempt {}): {error}",
                        message.attempts + 1
                    );
                    outbox::mark_failed(conn, &message, &error, now + backoff(message.attempts))?
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), Duration::seconds(10));
        assert_eq!(backoff(1), Duration::seconds(20));
        assert_eq!(backoff(8), Duration::seconds(2560));
        assert_eq!(backoff(9), Duration::seconds(3600));
        assert_eq!(backoff(50), Duration::seconds(3600));
    }
}
