//! Joining and leaving classes: enrollment plus VM assignment or the waitlist, atomically.

use rusqlite::Connection;

use super::classes::check_visible;
use super::{events, Lab};
use crate::error::{Error, Result};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::classes::Class;
use crate::store::enrollment::{self, Enrollment};
use crate::store::pool::{self, PoolVm};
use crate::store::{settings, tokens, waitlist};
use crate::token::JoinToken;
use crate::types::{ClassId, UserId};

/// What a join gave the student.
#[derive(Debug, Clone, PartialEq)]
pub enum VmOutcome {
    /// A VM was assigned now.
    Assigned(PoolVm),
    /// The student already held this VM (joining again changes nothing).
    AlreadyAssigned(PoolVm),
    /// No VM was free: the student waits at this 1-based position and is assigned first come
    /// first served when one frees up.
    Waitlisted {
        /// Place in the queue.
        position: u32,
    },
    /// No VM was free and the waitlist is switched off (system setting): the student is
    /// enrolled and a teacher can assign a VM.
    NoVmFree,
}

/// The result of [`Lab::join`].
#[derive(Debug, Clone, PartialEq)]
pub struct JoinOutcome {
    /// The class joined.
    pub class: Class,
    /// Whether this join enrolled the student or they already were.
    pub enrollment: Enrollment,
    /// The VM side.
    pub vm: VmOutcome,
}

/// The result of [`Lab::leave`].
#[derive(Debug, Clone, PartialEq)]
pub struct LeaveOutcome {
    /// Whether the user was enrolled.
    pub was_enrolled: bool,
    /// The VM they gave back; it waits for a reimage before anyone else gets it.
    pub released: Option<PoolVm>,
    /// Whether they were on the waitlist.
    pub was_waitlisted: bool,
}

/// Hands free clean VMs to waiting students, first come first served, inside the caller's
/// transaction. Returns who got what (for the "your VM is ready" events).
pub(crate) fn promote_waitlist(tx: &Connection, class: ClassId) -> Result<Vec<(UserId, PoolVm)>> {
    serve_waitlist(tx, class).map(|served| served.promoted)
}

/// What [`serve_waitlist`] did, and whether anyone is left waiting.
struct Served {
    promoted: Vec<(UserId, PoolVm)>,
    /// Someone still waits (no free VM was left for them).
    still_waiting: bool,
}

/// [`promote_waitlist`], also telling whether the waitlist is empty afterwards, so a join
/// learns it from the reads already made instead of reading the waitlist again.
fn serve_waitlist(tx: &Connection, class: ClassId) -> Result<Served> {
    let mut promoted = Vec::new();
    while let Some(user) = waitlist::first(tx, class)? {
        if pool::held(tx, class, user)?.is_some() {
            // Assigned meanwhile by a teacher: they no longer wait.
            waitlist::remove(tx, class, user)?;
            continue;
        }
        let Some(vm) = pool::assign_next_free(tx, class, user)? else {
            return Ok(Served {
                promoted,
                still_waiting: true,
            });
        };
        waitlist::remove(tx, class, user)?;
        promoted.push((user, vm));
    }
    Ok(Served {
        promoted,
        still_waiting: false,
    })
}

/// The class whose current token hashes to `hash`, if the token is still valid.
///
/// The lookup goes through the unique index on the hash: timing can only tell about hashes, and
/// finding a token from (a prefix of) its SHA-256 hash is a preimage problem over 128 random
/// bits, so no constant-time comparison is needed.
///
/// # Errors
/// [`Error::TokenInvalid`]; [`Error::TokenExpired`].
fn usable_class(tx: &Connection, hash: &crate::token::JoinTokenHash) -> Result<Class> {
    let class = tokens::by_token_hash(tx, hash)?.ok_or(Error::TokenInvalid)?;
    match class.token {
        Some(expiry) => expiry.check(crate::db::time::now())?,
        None => return Err(Error::TokenInvalid),
    }
    Ok(class)
}

impl Lab {
    /// Joins the class whose current token this is: enrolls the actor and, in the same
    /// transaction, gives them the lowest free student VM or a place on the waitlist. Joining
    /// again is a no-op that says so. Teacher, base, manually added, deleting and
    /// awaiting-reimage VMs are never handed out.
    ///
    /// Attempts are limited per user (the system setting `rate_limit.join_per_minute`, checked
    /// before the token is even looked up), so guessing tokens is hopeless from any front end.
    ///
    /// # Errors
    /// [`Error::RateLimited`] with the time until the next attempt is allowed;
    /// [`Error::TokenInvalid`] when no class has this token (nothing about other classes is
    /// revealed); [`Error::TokenExpired`] when it expired.
    pub async fn join(&self, actor: &Actor, token: &JoinToken) -> Result<JoinOutcome> {
        authorize(actor, Action::JoinClass, ClassRelation::None)?;
        let student = actor.person(Action::JoinClass)?;
        let hash = token.hash();
        // A wrong or expired token (a typo, or a guess) is refused from a read, without queueing
        // for the write lock that real joins need; the rate limit comes first.
        let probe = hash.clone();
        let limiter = self.join_limiter();
        self.db()
            .read(move |tx| {
                limiter.check(student, settings::load(tx)?.join_rate_limit())?;
                usable_class(tx, &probe).map(drop)
            })
            .await?;
        let (outcome, announced) = self
            .db()
            .write(move |tx| {
                // Again inside the write: the token may have been rotated meanwhile.
                let class = usable_class(tx, &hash)?;
                let enrolled = enrollment::enroll(tx, student, class.id)?;
                let (vm, promoted) = match pool::held(tx, class.id, student)? {
                    Some(vm) => (VmOutcome::AlreadyAssigned(vm), Vec::new()),
                    None => {
                        // Serve those already waiting before a newcomer (first come first
                        // served).
                        let Served {
                            promoted,
                            still_waiting,
                        } = serve_waitlist(tx, class.id)?;
                        let vm = if still_waiting {
                            None
                        } else {
                            pool::assign_next_free(tx, class.id, student)?
                        };
                        let vm = match vm {
                            Some(vm) => VmOutcome::Assigned(vm),
                            None if settings::load(tx)?.waitlist_enabled() => {
                                VmOutcome::Waitlisted {
                                    position: waitlist::enqueue(tx, class.id, student)?,
                                }
                            }
                            // The enrollment stays: the teacher can assign a VM later.
                            None => VmOutcome::NoVmFree,
                        };
                        (vm, promoted)
                    }
                };
                let mut announced =
                    events::announce_assignments(tx, class.id, &class.name, &promoted)?;
                if let VmOutcome::Waitlisted { position } = vm {
                    events::announce_waitlisted(tx, class.id, &class.name, student, position)?;
                    announced += 1;
                }
                Ok((
                    JoinOutcome {
                        class,
                        enrollment: enrolled,
                        vm,
                    },
                    announced,
                ))
            })
            .await?;
        self.wake_consumers(announced);
        Ok(outcome)
    }

    /// Leaves a class: the enrollment and any waitlist place end, and the student's VM is taken
    /// back and held for a reimage ([`Lab::mark_reimaged`]) before anyone else gets it.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown class, or one the actor is not in.
    pub async fn leave(&self, actor: &Actor, class: ClassId) -> Result<LeaveOutcome> {
        let user = actor.person(Action::LeaveClass)?;
        let who = *actor;
        self.class_write(actor, Action::LeaveClass, class, move |tx, stored| {
            check_visible(tx, &who, &stored)?;
            let released = pool::release(tx, class, user)?;
            let was_waitlisted = waitlist::remove(tx, class, user)?;
            let was_enrolled = enrollment::unenroll(tx, user, class)?;
            Ok(LeaveOutcome {
                was_enrolled,
                released,
                was_waitlisted,
            })
        })
        .await
    }
}
