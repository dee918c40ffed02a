//! In-VM checks through the facade: teachers define checks for a class and run them on every
//! student VM; students run their class's checks on their own VM; every run's results are
//! stored with its time and can be read back as CSV.
//!
//! A check's command runs through the QEMU guest agent (`agent/exec`, then `agent/exec-status`
//! until it ends or its timeout passes), as the agent's user: root on Linux guests. Defining
//! one is therefore for the class's teachers and adminers ([`Action::DefineChecks`]); the bot
//! shows a definition back and asks to confirm before it calls [`Lab::define_check`].
//!
//! How a run on one VM ends ([`CheckOutcome`]): `stopped` when the VM is not running (the
//! agent is not asked), `no agent` when its agent is not configured or not up, `timeout` when
//! the command still ran at the check's timeout, `pass` / `fail` by the check's rule once it
//! ended (a program the guest cannot start fails), and `error` when Proxmox could not be asked.

mod runner;

use jiff::Timestamp;

use self::runner::Target;
use super::classes::check_visible;
use super::{class_for, Lab};
use crate::checks::{CheckDefinition, CheckName, CheckOutcome};
use crate::error::{Entity, Error, Result};
use crate::rules::permissions::{Action, Actor};
use crate::store::checks::{self, Check, CheckRow};
use crate::store::{enrollment, pool, users};
use crate::types::{ClassId, VmRef};

/// One run of a check over the class's student VMs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// The check.
    pub check: Check,
    /// When the run's results were stored.
    pub ran_at: Timestamp,
    /// One row per student VM, in VMID order.
    pub rows: Vec<CheckRow>,
}

/// A student's run of their class's checks on their own VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnCheckRun {
    /// Their VM.
    pub vm: VmRef,
    /// When the results were stored.
    pub ran_at: Timestamp,
    /// One row per check of the class, by check name (none when the class has no checks).
    pub rows: Vec<CheckRow>,
}

impl CheckRun {
    /// How many rows ended with `outcome`.
    pub fn count(&self, outcome: CheckOutcome) -> usize {
        self.rows.iter().filter(|r| r.outcome == outcome).count()
    }
}

impl Lab {
    /// Defines a check of the class (its teachers and adminers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NameTaken`] when the class has a check of that name;
    /// [`Error::NotFound`] for an unknown class.
    pub async fn define_check(
        &self,
        actor: &Actor,
        class: ClassId,
        definition: CheckDefinition,
    ) -> Result<Check> {
        let author = actor.user_id();
        self.class_write(actor, Action::DefineChecks, class, move |tx, _class| {
            let check = checks::insert(tx, class, &definition, author)?;
            tracing::info!(%class, check = %check.definition.name, "check defined");
            Ok(check)
        })
        .await
    }

    /// The class's checks by name (its teachers and adminers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown class.
    pub async fn checks(&self, actor: &Actor, class: ClassId) -> Result<Vec<Check>> {
        self.class_read(actor, Action::RunChecks, class, move |tx, _class| {
            checks::list(tx, class)
        })
        .await
    }

    /// Removes a check of the class, with its stored results; returns it (its teachers and
    /// adminers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] when the class has no such check.
    pub async fn remove_check(
        &self,
        actor: &Actor,
        class: ClassId,
        name: &CheckName,
    ) -> Result<Check> {
        let name = name.clone();
        self.class_write(actor, Action::DefineChecks, class, move |tx, _class| {
            checks::remove(tx, class, &name)
        })
        .await
    }

    /// Runs the check `name` on every student VM of the class (at most eight at once) and
    /// stores the results (its teachers and adminers). A VM that is not running is reported
    /// `stopped` without asking its agent.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown class or check (also when
    /// the check was removed during the run). How each VM fared is in the rows, never an error.
    pub async fn run_check(
        &self,
        actor: &Actor,
        class: ClassId,
        name: &CheckName,
    ) -> Result<CheckRun> {
        let wanted = name.clone();
        let (check, targets) = self
            .class_read(actor, Action::RunChecks, class, move |tx, _class| {
                let check = checks::get(tx, class, &wanted)?;
                let mut targets: Vec<Target> = enrollment::students(tx, class)?
                    .into_iter()
                    .filter_map(|s| {
                        s.vm.map(|vm| Target {
                            student: s.user,
                            vm: vm.vm_ref(),
                            node: vm.node,
                        })
                    })
                    .collect();
                targets.sort_by(|a, b| a.vm.cmp(&b.vm));
                Ok((check, targets))
            })
            .await?;
        let checks = vec![check];
        let rows = runner::run(self, &targets, &checks, self.now()).await;
        let (ran_at, rows) = self
            .store_rows(actor, Action::RunChecks, class, checks.clone(), rows)
            .await?;
        let [check] = <[Check; 1]>::try_from(checks)
            .map_err(|_| Error::internal("one check became several"))?;
        tracing::info!(
            %class,
            check = %check.definition.name,
            vms = rows.len(),
            passed = rows.iter().filter(|r| r.outcome == CheckOutcome::Pass).count(),
            "check run"
        );
        Ok(CheckRun {
            check,
            ran_at,
            rows,
        })
    }

    /// Runs every check of the class on the actor's own VM there and stores the results.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a class the actor is not in, or when they hold no VM in it;
    /// [`Error::NotPermitted`] for the system actor.
    pub async fn run_my_checks(&self, actor: &Actor, class: ClassId) -> Result<OwnCheckRun> {
        let me = actor.person(Action::CheckOwnVm)?;
        let reader = *actor;
        let (checks, target) = self
            .db()
            .read(move |tx| {
                let stored = class_for(tx, &reader, Action::CheckOwnVm, class)?;
                check_visible(tx, &reader, &stored)?;
                let vm = pool::held(tx, class, me)?.ok_or_else(|| {
                    Error::not_found(Entity::Vm, format!("held by you in class {}", stored.name))
                })?;
                let target = Target {
                    student: users::get(tx, me)?,
                    vm: vm.vm_ref(),
                    node: vm.node,
                };
                Ok((checks::list(tx, class)?, target))
            })
            .await?;
        let vm = target.vm.clone();
        let rows = runner::run(self, &[target], &checks, self.now()).await;
        let (ran_at, rows) = self
            .store_rows(actor, Action::CheckOwnVm, class, checks, rows)
            .await?;
        Ok(OwnCheckRun { vm, ran_at, rows })
    }

    /// Every stored result of the check `name` as CSV text (its teachers and adminers): one
    /// line per VM and run, oldest run first, under the header
    /// `check,student,user_id,cluster,vmid,outcome,exit_code,first_line,ran_at`.
    ///
    /// Text that came from students (their names, their VMs' output) and starts with `=`, `+`,
    /// `-`, `@` or a tab gets a leading `'`, so a spreadsheet shows it instead of running it as
    /// a formula.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown class or check.
    pub async fn check_results_csv(
        &self,
        actor: &Actor,
        class: ClassId,
        name: &CheckName,
    ) -> Result<String> {
        let name = name.clone();
        let rows = self
            .class_read(actor, Action::RunChecks, class, move |tx, _class| {
                let check = checks::get(tx, class, &name)?;
                checks::results(tx, &check)
            })
            .await?;
        to_csv(&rows)
    }

    /// Stores a run's rows (of `checks`) at the time of this write, re-checking `action` and
    /// that every check still exists; returns that time and the rows stamped with it.
    async fn store_rows(
        &self,
        actor: &Actor,
        action: Action,
        class: ClassId,
        checks: Vec<Check>,
        rows: Vec<CheckRow>,
    ) -> Result<(Timestamp, Vec<CheckRow>)> {
        self.class_write(actor, action, class, move |tx, _class| {
            let ran_at = crate::db::time::now();
            let rows: Vec<CheckRow> = rows.into_iter().map(|r| CheckRow { ran_at, ..r }).collect();
            for check in &checks {
                let name = &check.definition.name;
                let still = checks::find(tx, class, name)?;
                if still.map(|c| c.id) != Some(check.id) {
                    return Err(Error::not_found(
                        Entity::Check,
                        format!("{:?}", name.as_str()),
                    ));
                }
                let own: Vec<CheckRow> =
                    rows.iter().filter(|r| r.check == *name).cloned().collect();
                checks::record(tx, check, &own)?;
            }
            Ok((ran_at, rows))
        })
        .await
    }
}

/// `text`, with a leading `'` when a spreadsheet would read it as a formula.
fn defused(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The rows as CSV text.
fn to_csv(rows: &[CheckRow]) -> Result<String> {
    let failed = |e: csv::Error| Error::internal(format!("writing CSV failed: {e}"));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "check",
        "student",
        "user_id",
        "cluster",
        "vmid",
        "outcome",
        "exit_code",
        "first_line",
        "ran_at",
    ])
    .map_err(failed)?;
    for r in rows {
        out.write_record([
            r.check.to_string(),
            defused(r.student.shown_name()),
            r.student.id.to_string(),
            r.vm.cluster.to_string(),
            r.vm.vmid.to_string(),
            r.outcome.as_str().to_owned(),
            r.exit_code.map(|c| c.to_string()).unwrap_or_default(),
            defused(&r.first_line),
            r.ran_at.to_string(),
        ])
        .map_err(failed)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::internal(format!("writing CSV failed: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::internal(format!("CSV is not UTF-8: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_from_students_are_defused() {
        assert_eq!(defused("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defused("-1"), "'-1");
        assert_eq!(defused("active"), "active");
        assert_eq!(defused(""), "");
    }
}
