//! The contact sweep (SPEC 5.4): what XPM's `modifiedsince` does not flag.
//!
//! XPM does not bump a client's modified time when one of its contacts is edited, added or made
//! primary, so a changes sync alone misses those. Every changes sync therefore also:
//!
//! 1. pages through `client.api/contacts` (every non-deleted contact, no client reference) and
//!    compares each contact's hash with the directory's:
//!    * known and changed → the contact is updated (each field in `sync_changes`) and the live
//!      clients that list it are re-fetched, so their JSON, hash and links are current;
//!    * known but no longer listed → deleted in XPM: tombstoned, its clients re-fetched;
//!    * unknown → a contact was added to some client (or created alone) without the client
//!      being flagged. The contacts list cannot say which client, and finding it one
//!      `client.api/get` at a time could cost a call per client, whereas a full sync costs ONE
//!      call: so the contact is stored unlinked and a **full sync is requested** (the schedule
//!      runs it next; `full_requested_at`). An orphan contact of no client is then known, and
//!      does not trigger another full sync.
//! 2. re-fetches, one `client.api/get` each, a small **rotating slice** of clients
//!    (`verify_per_run`, cursor in `connections.verify_cursor`). A primary-contact move changes
//!    nothing in the contacts list (IsPrimary belongs to the link), so no list can reveal it; the
//!    slice finds it within `clients / verify_per_run` runs, and the daily full sync within a day
//!    at worst. Practices up to `verify_per_run` clients are verified completely on every run.
//!
//! Budget: re-fetches beyond `max_refetch_per_run`, or beyond what the day budget allows above
//! the reserve, are not made; a full sync is requested instead (one call).

use std::collections::{BTreeSet, HashSet};

use time::OffsetDateTime;

use super::active::{ActiveRun, Committed};
use super::meter::Meter;
use super::progress::{Phase, Reporter};
use crate::error::Result;
use crate::settings::SyncSettings;
use crate::source::PracticeSource;
use crate::store::{Applier, ContactSweepOutcome, Store, WriteTx};

/// Safety stop for a server that never stops paging.
const MAX_CONTACT_PAGES: u32 = 10_000;

struct SweepResult {
    pub full_requested: bool,
}

/// Runs the sweep and the re-fetches inside the caller's transaction.
async fn sweep_and_refetch<S: PracticeSource>(
    tx: &mut WriteTx<'_>,
    source: &S,
    settings: &SyncSettings,
    applier: &mut Applier,
    meter: &mut Meter,
    reporter: &mut Reporter<'_>,
) -> Result<SweepResult> {
    reporter.phase(Phase::SweepingContacts, None);
    let mut listed: HashSet<String> = HashSet::new();
    let mut refetch: BTreeSet<String> = BTreeSet::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = match source
            .contacts_page(settings.contacts_page_size.clamp(1, 500), token.as_deref())
            .await
        {
            Ok(page) => page,
            Err(e) => {
                meter.failed(&mut applier.counts);
                return Err(e.into());
            }
        };
        meter.answered(&mut applier.counts, &page.meta);
        applier.note_warnings(page.warnings);
        pages += 1;
        for contact in &page.value.items {
            if let Some(uuid) = &contact.uuid {
                listed.insert(uuid.clone());
            }
            if let ContactSweepOutcome::Changed { clients } = applier.sweep_contact(tx.db(), contact)? {
                refetch.extend(clients);
            }
            reporter.step(false);
        }
        match page.value.next_page_token {
            Some(next) if token.as_deref() != Some(next.as_str()) && pages < MAX_CONTACT_PAGES => {
                token = Some(next)
            }
            _ => break,
        }
    }
    reporter.finish_phase();
    refetch.extend(applier.sweep_missing(tx.db(), &listed)?);
    // Contacts changed through a client of this run: the other clients listing them were hashed
    // with the old copy, and are fetched again to record them as XPM has them now.
    for contact in applier.changed_contacts.clone() {
        refetch.extend(applier.live_clients_of_contact(tx.db(), &contact)?);
    }
    let mut full_requested = applier.counts.contacts_unknown > 0;
    let mut todo: Vec<String> = refetch
        .into_iter()
        .filter(|u| !applier.seen.contains(u))
        .collect();

    let day_left = meter.quota.day_remaining.map(u64::from);
    let affordable = |n: u64| day_left.is_none_or(|left| n + u64::from(settings.budget_reserve) <= left);
    // Nothing to re-fetch costs nothing: a low day budget alone is no reason for a full sync.
    if !todo.is_empty()
        && (todo.len() as u64 > u64::from(settings.max_refetch_per_run) || !affordable(todo.len() as u64))
    {
        tracing::info!(
            clients = todo.len(),
            "too many clients to re-fetch one by one; requesting a full sync"
        );
        todo.clear();
        full_requested = true;
    }
    {
        let slice = applier.next_verify_slice(tx.db(), settings.verify_per_run)?;
        let extra: Vec<String> = slice
            .into_iter()
            .filter(|u| !applier.seen.contains(u) && !todo.contains(u))
            .collect();
        if affordable((todo.len() + extra.len()) as u64) {
            todo.extend(extra);
        }
    }

    reporter.phase(Phase::Refetching, Some(todo.len() as u64));
    for uuid in todo {
        match source.get_client(&uuid).await {
            Ok(fetched) => {
                meter.answered(&mut applier.counts, &fetched.meta);
                applier.counts.refetched += 1;
                applier.apply_client(tx.db(), fetched.value)?;
                applier.note_warnings(fetched.warnings);
            }
            Err(e) if e.is_not_found() => {
                // XPM says it no longer knows the client (deleted since). Not tombstoned here: a
                // complete list must confirm it, so the full sync settles it.
                meter.failed(&mut applier.counts);
                tracing::warn!(client = %uuid, error = %e, "XPM no longer knows a client; requesting a full sync");
                full_requested = true;
            }
            Err(e) => {
                meter.failed(&mut applier.counts);
                return Err(e.into());
            }
        }
        reporter.step(true);
    }
    Ok(SweepResult { full_requested })
}

/// Only the contact sweep and its re-fetches (run kind `contacts`); the watermark stays.
pub(super) async fn run<S: PracticeSource>(
    store: &mut Store,
    source: &S,
    active: &mut ActiveRun<'_>,
) -> Result<Committed> {
    let tx = WriteTx::begin(store.db_mut())?;
    sweep_and_commit(tx, source, active, None).await
}

/// The end of a changes sync or a sweep alone: the sweep and its re-fetches in the run's
/// transaction, then the commit, with the watermark a changes sync moves (a sweep moves none).
pub(crate) async fn sweep_and_commit<S: PracticeSource>(
    mut tx: WriteTx<'_>,
    source: &S,
    active: &mut ActiveRun<'_>,
    watermark: Option<OffsetDateTime>,
) -> Result<Committed> {
    let ActiveRun {
        connection,
        applier,
        meter,
        reporter,
        ..
    } = active;
    let sweep = sweep_and_refetch(&mut tx, source, &connection.settings, applier, meter, reporter).await?;
    reporter.phase(Phase::Committing, None);
    active.commit(tx, watermark, sweep.full_requested)
}
