//! The clock's table: for every enabled rule with a schedule expression and every enabled
//! schedule, its next occurrence and when it is due (the occurrence plus, for a flexible
//! window, a random delay within it), ordered by due time.
//!
//! Loading (at start, after a change, after the clock moved) is where missed occurrences are
//! decided: an occurrence more than [`GRACE_MS`] in the past was missed (downtime); with
//! `catch_up = once` the entry fires once, now, for the latest missed occurrence; with
//! `none` it waits for the next one. While running, an entry that fell behind by more than
//! one occurrence also fires once for the latest: never a burst.

use std::collections::{BTreeSet, HashMap};

use rand::Rng;

use crate::domain::schedule::Plan;
use crate::services::events::changes::Changed;

/// How far in the past an occurrence may be at load time and still count as on time.
pub const GRACE_MS: i64 = 2_000;

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: Changed,
    pub plan: Plan,
    /// The occurrence it fires for next.
    pub occurrence: i64,
    /// When it fires.
    pub due: i64,
    /// Flexible window of a schedule (0: fire at the occurrence).
    pub window_ms: i64,
    /// True when `occurrence` was missed and this is the catch-up firing.
    pub catch_up: bool,
}

/// The table.
#[derive(Default)]
pub struct Timers {
    entries: HashMap<Changed, Entry>,
    queue: BTreeSet<(i64, Changed)>,
    /// The latest occurrence fired per key (the store's record is written in batches).
    pub fired: HashMap<Changed, (i64, i64)>,
}

fn jitter(window_ms: i64) -> i64 {
    if window_ms <= 0 {
        0
    } else {
        rand::thread_rng().gen_range(0..window_ms)
    }
}

impl Timers {
    /// Removes an entry.
    pub fn remove(&mut self, key: Changed) {
        if let Some(e) = self.entries.remove(&key) {
            self.queue.remove(&(e.due, key));
        }
    }

    /// Loads an entry from its plan and the last occurrence fired (None: never).
    pub fn load(
        &mut self,
        key: Changed,
        plan: Plan,
        last_fired: Option<i64>,
        window_ms: i64,
        now: i64,
        catch_up_once: bool,
    ) {
        self.remove(key);
        // The store's record may lag behind what this process fired.
        let last = match (self.fired.get(&key), last_fired) {
            (Some((anchor, f)), l) if *anchor == plan.anchor_ms => {
                Some(l.map_or(*f, |l| l.max(*f)))
            }
            (_, l) => l,
        };
        let base = last.unwrap_or(plan.anchor_ms - 1);
        let Some(next) = plan.after(base) else { return };
        let (occurrence, due, catch_up) = if next >= now - GRACE_MS {
            (next, next + jitter(window_ms), false)
        } else if catch_up_once {
            (plan.latest(next, now), now, true)
        } else {
            match plan.after(now) {
                Some(n) => (n, n + jitter(window_ms), false),
                None => return,
            }
        };
        self.insert(Entry {
            key,
            plan,
            occurrence,
            due,
            window_ms,
            catch_up,
        });
    }

    fn insert(&mut self, e: Entry) {
        self.queue.insert((e.due, e.key));
        self.entries.insert(e.key, e);
    }

    /// When the earliest entry is due.
    pub fn next_due(&self) -> Option<i64> {
        self.queue.iter().next().map(|(d, _)| *d)
    }

    /// Takes every entry due at `now` and schedules its next occurrence; returns the
    /// firings (the entry as it was when due).
    pub fn take_due(&mut self, now: i64) -> Vec<Entry> {
        let mut out = Vec::new();
        while let Some(&(due, key)) = self.queue.iter().next() {
            if due > now {
                break;
            }
            self.queue.remove(&(due, key));
            let Some(mut e) = self.entries.remove(&key) else {
                continue;
            };
            // Behind by more than one occurrence: fire once, for the latest.
            if let Some(n) = e.plan.after(e.occurrence) {
                if n <= now {
                    e.occurrence = e.plan.latest(n, now);
                    e.catch_up = true;
                }
            }
            self.fired.insert(key, (e.plan.anchor_ms, e.occurrence));
            if let Some(next) = e.plan.after(e.occurrence) {
                self.insert(Entry {
                    occurrence: next,
                    due: next + jitter(e.window_ms),
                    catch_up: false,
                    ..e.clone()
                });
            }
            out.push(e);
        }
        out
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry of a key.
    pub fn get(&self, key: &Changed) -> Option<&Entry> {
        self.entries.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::{Dialect, Expression};

    fn plan(expr: &str, anchor: i64) -> Plan {
        Plan {
            expr: Expression::parse(expr, Dialect::Rule).unwrap(),
            tz: jiff::tz::TimeZone::UTC,
            anchor_ms: anchor,
            first_at_anchor: false,
            start_ms: None,
            end_ms: None,
        }
    }

    #[test]
    fn downtime_fires_once_or_not_at_all_and_never_bursts() {
        let k = Changed::Rule(1);
        let mut t = Timers::default();
        // Created at 0, every minute; the daemon comes back at 1 h + 30 s.
        let now = 3_630_000;
        t.load(k, plan("rate(1 minute)", 0), Some(120_000), 0, now, true);
        let fired = t.take_due(now);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].occurrence, 3_600_000);
        assert!(fired[0].catch_up);
        assert_eq!(t.next_due(), Some(3_660_000));
        assert!(t.take_due(now + 1).is_empty());
        // catch_up = none: nothing now, the next occurrence later.
        let mut t = Timers::default();
        t.load(k, plan("rate(1 minute)", 0), Some(120_000), 0, now, false);
        assert!(t.take_due(now).is_empty());
        assert_eq!(t.next_due(), Some(3_660_000));
        // Running, but the loop stalled for 10 periods: one firing, for the latest.
        let mut t = Timers::default();
        t.load(k, plan("rate(1 second)", 0), None, 0, 500, true);
        assert_eq!(t.next_due(), Some(1000));
        let f = t.take_due(1000);
        assert_eq!(f[0].occurrence, 1000);
        let f = t.take_due(11_500);
        assert_eq!((f.len(), f[0].occurrence, f[0].catch_up), (1, 11_000, true));
        assert_eq!(t.next_due(), Some(12_000));
    }

    #[test]
    fn what_was_fired_is_not_fired_again_after_a_reload() {
        let k = Changed::Rule(1);
        let mut t = Timers::default();
        t.load(k, plan("rate(1 second)", 0), None, 0, 900, true);
        assert_eq!(t.take_due(1000).len(), 1);
        // The store has not recorded it yet; a reload must not fire 1000 again.
        t.load(k, plan("rate(1 second)", 0), None, 0, 1001, true);
        assert_eq!(t.next_due(), Some(2000));
        t.remove(k);
        assert!(t.is_empty());
    }
}
