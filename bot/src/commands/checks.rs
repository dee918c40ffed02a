//! In-VM checks: teachers' `/check add|list|remove|run`, and students' `/vm check`.

use pvelab_core::model::{Action, Class};
use pvelab_core::model::{Check, CheckDefinition, CheckName, CheckOutcome, CheckRow};
use pvelab_core::model::{CheckCommand, CheckTimeout, ExitCode, OutputPattern, PassRule};
use pvelab_core::types::ClassName;
use pvelab_core::{Actor, Error};

use super::{ButtonStyle, CommandContext, CommandError, Progress, Reply};
use crate::console::grammar::quote_value;
use crate::render::format;

/// The options of `/check add`.
#[derive(Debug, Clone)]
pub struct AddArgs {
    /// The check's name.
    pub name: CheckName,
    /// The command run in each VM.
    pub command: CheckCommand,
    /// How long it may run (30 s when not given).
    pub timeout: Option<CheckTimeout>,
    /// The exit code it must end with.
    pub expect_exit: Option<ExitCode>,
    /// The pattern its output must match.
    pub expect_output: Option<OutputPattern>,
}

/// The lines that describe a check: what runs, how long, what passes.
fn definition_lines(d: &CheckDefinition) -> Vec<String> {
    vec![
        format!("command: {}", d.command),
        format!("timeout: {}", d.timeout),
        format!("passes when: {}", d.pass),
    ]
}

/// `/check add` with these options, confirmed: what the confirm button runs.
fn add_command_line(class: &ClassName, d: &CheckDefinition) -> String {
    let mut line = format!(
        "/check add class:{} name:{} command:{} timeout:{}",
        quote_value(class.as_str()),
        quote_value(d.name.as_str()),
        quote_value(&d.command.to_string()),
        d.timeout.secs()
    );
    if let Some(code) = d.pass.exit_code() {
        line.push_str(&format!(" expect-exit:{code}"));
    }
    if let Some(pattern) = d.pass.output() {
        line.push_str(&format!(" expect-output:{}", quote_value(pattern.as_str())));
    }
    line.push_str(" confirm:yes");
    line
}

/// `/check add class name command [timeout] [expect-exit] [expect-output] [confirm]`: shows
/// the definition back and asks to confirm (the command runs as root in every student's VM);
/// with `confirm:yes` defines it.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers; the name taken.
pub async fn add(
    ctx: &CommandContext,
    class_name: &ClassName,
    args: AddArgs,
    confirmed: bool,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, class_name).await?;
    let definition = CheckDefinition::new(
        args.name,
        args.command,
        args.timeout.unwrap_or(CheckTimeout::DEFAULT),
        PassRule::new(args.expect_exit, args.expect_output),
    );
    if !confirmed {
        // Refused early, before anyone confirms: who may not see the checks may not define
        // them, and a taken name is said now rather than after the confirmation.
        let existing = ctx
            .lab
            .checks(&actor, class.id)
            .await
            .map_err(as_defining)?;
        if existing
            .iter()
            .any(|c| c.definition.name == definition.name)
        {
            return Err(Error::NameTaken {
                entity: pvelab_core::Entity::Check,
                name: definition.name.to_string(),
            }
            .into());
        }
        return Ok(Reply::titled(format!(
            "Add check {} to {}?",
            definition.name, class.name
        ))
        .section("check", definition_lines(&definition))
        .line(
            "The command runs through the guest agent in every student's VM, as root on Linux. \
             Check it before you confirm.",
        )
        .button(
            "Add check",
            add_command_line(&class.name, &definition),
            ButtonStyle::Primary,
        )
        .ephemeral());
    }
    let check = ctx.lab.define_check(&actor, class.id, definition).await?;
    Ok(Reply::titled(format!(
        "Check {} added to {}",
        check.definition.name, class.name
    ))
    .section("check", definition_lines(&check.definition))
    .button(
        "Run it now",
        run_command_line(&class, &check.definition.name),
        ButtonStyle::Primary,
    ))
}

/// A refusal to list checks, told as the refusal to define one that it stands for.
fn as_defining(error: Error) -> Error {
    match error {
        Error::NotPermitted { needed, .. } => Error::NotPermitted {
            action: Action::DefineChecks,
            needed,
        },
        other => other,
    }
}

fn run_command_line(class: &Class, check: &CheckName) -> String {
    format!(
        "/check run class:{} check:{}",
        quote_value(class.name.as_str()),
        quote_value(check.as_str())
    )
}

/// `/check list class`: the class's checks.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers.
pub async fn list(ctx: &CommandContext, class_name: &ClassName) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, class_name).await?;
    let checks = ctx.lab.checks(&actor, class.id).await?;
    let rows = checks
        .iter()
        .map(|c: &Check| {
            let d = &c.definition;
            vec![
                d.name.to_string(),
                d.command.to_string(),
                d.timeout.to_string(),
                d.pass.to_string(),
            ]
        })
        .collect();
    let mut reply = Reply::titled(format!("Checks of {}", class.name))
        .table(&["CHECK", "COMMAND", "TIMEOUT", "PASSES WHEN"], rows);
    if checks.is_empty() {
        reply = reply.line("Add one with /check add.");
    }
    Ok(reply)
}

/// `/check remove class name`: removes a check and its stored results.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class or check; not one of its teachers.
pub async fn remove(
    ctx: &CommandContext,
    class_name: &ClassName,
    name: &CheckName,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, class_name).await?;
    let removed = ctx.lab.remove_check(&actor, class.id, name).await?;
    Ok(Reply::text(format!(
        "Check {} is removed from {}, with its stored results.",
        removed.definition.name, class.name
    )))
}

/// A result as people read it in a table.
fn outcome_cell(outcome: CheckOutcome) -> String {
    match outcome {
        CheckOutcome::Pass => "pass".to_owned(),
        CheckOutcome::Fail => "FAIL".to_owned(),
        other => other.to_string(),
    }
}

/// The file name of a check's results: only letters, digits, `-` and `_`.
fn csv_name(class: &ClassName, check: &CheckName) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "{}-{}-results.csv",
        safe(class.as_str()),
        safe(check.as_str())
    )
}

/// `/check run class check [csv]`: runs the check on every student VM and shows a table of
/// how each ended; with `csv:yes` every stored result of the check comes as a CSV file too.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class or check; not one of its teachers.
pub async fn run(
    ctx: &CommandContext,
    class_name: &ClassName,
    name: &CheckName,
    csv: bool,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, class_name).await?;
    ctx.progress.report(Progress::message(format!(
        "running check {name} on the student VMs of {}",
        class.name
    )));
    let run = ctx.lab.run_check(&actor, class.id, name).await?;
    let rows = run
        .rows
        .iter()
        .map(|r| {
            vec![
                format::person(&r.student),
                r.vm.vmid.to_string(),
                outcome_cell(r.outcome),
                r.first_line.clone(),
            ]
        })
        .collect();
    let passed = run.count(CheckOutcome::Pass);
    let mut reply = Reply::titled(format!(
        "Check {} on {}: {passed} of {} pass",
        run.check.definition.name,
        class.name,
        run.rows.len()
    ))
    .line(format!("ran at {}", format::instant(run.ran_at)))
    .table(&["STUDENT", "VM", "RESULT", "OUTPUT"], rows);
    if run.rows.is_empty() {
        reply = reply.line("No student holds a VM in this class yet.");
    }
    if csv {
        let text = ctx.lab.check_results_csv(&actor, class.id, name).await?;
        reply = reply.attach(csv_name(&class.name, name), text.into_bytes());
    } else {
        reply = reply.button(
            "Results as CSV",
            format!("{} csv:yes", run_command_line(&class, name)),
            ButtonStyle::Secondary,
        );
    }
    Ok(reply)
}

/// The class of the caller's VM: the one named, or the only one they hold a VM in.
///
/// # Errors
/// [`CommandError::Core`] with [`Error::NotFound`] when they hold no VM (there, or at all),
/// and [`CommandError::Option`] when they hold VMs in several classes and named none.
pub(crate) async fn own_class(
    ctx: &CommandContext,
    actor: &Actor,
    name: Option<&ClassName>,
) -> Result<Class, CommandError> {
    if let Some(name) = name {
        return ctx.class(actor, name).await;
    }
    let vms = ctx.lab.my_vms(actor).await?;
    match vms.as_slice() {
        [] => Err(Error::NotFound {
            entity: pvelab_core::Entity::Vm,
            key: "held by you".to_owned(),
        }
        .into()),
        [only] => Ok(ctx.lab.class(actor, only.class_id).await?),
        several => {
            let mut names = Vec::new();
            for vm in several {
                names.push(ctx.lab.class(actor, vm.class_id).await?.name.to_string());
            }
            Err(crate::parse::OptionError::new(
                "class",
                "",
                format!(
                    "you have VMs in several classes; name one: {}",
                    names.join(", ")
                ),
            )
            .into())
        }
    }
}

/// `/vm check [class]`: the class's checks on the caller's own VM.
///
/// # Errors
/// [`CommandError::Core`]: no VM in the class; [`CommandError::Option`]: VMs in several classes
/// and none named.
pub async fn check_own(
    ctx: &CommandContext,
    name: Option<&ClassName>,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = own_class(ctx, &actor, name).await?;
    let run = ctx.lab.run_my_checks(&actor, class.id).await?;
    if run.rows.is_empty() {
        return Ok(Reply::text(format!(
            "{} has no checks yet; your teacher defines them.",
            class.name
        ))
        .ephemeral());
    }
    let passed = run
        .rows
        .iter()
        .filter(|r| r.outcome == CheckOutcome::Pass)
        .count();
    let rows = run
        .rows
        .iter()
        .map(|r: &CheckRow| {
            vec![
                r.check.to_string(),
                outcome_cell(r.outcome),
                r.first_line.clone(),
            ]
        })
        .collect();
    Ok(Reply::titled(format!(
        "Checks of your VM {} in {}: {passed} of {} pass",
        run.vm.vmid,
        class.name,
        run.rows.len()
    ))
    .table(&["CHECK", "RESULT", "OUTPUT"], rows)
    .ephemeral())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirm_button_repeats_the_definition_with_confirm_yes() {
        let d = CheckDefinition::new(
            CheckName::parse("web up").unwrap(),
            CheckCommand::new(["sh", "-c", "curl -fs localhost | grep -q \"Hello\""]).unwrap(),
            CheckTimeout::from_secs(20).unwrap(),
            PassRule::new(
                Some(ExitCode::new(0).unwrap()),
                Some(OutputPattern::parse("^ok$").unwrap()),
            ),
        );
        let line = add_command_line(&ClassName::parse("Net 101").unwrap(), &d);
        assert_eq!(
            line,
            r#"/check add class:"Net 101" name:"web up" command:"sh -c \"curl -fs localhost | grep -q \\\"Hello\\\"\"" timeout:20 expect-exit:0 expect-output:^ok$ confirm:yes"#
        );
    }

    #[test]
    fn result_files_have_safe_names() {
        let name = csv_name(
            &ClassName::parse("Net 101 (A)").unwrap(),
            &CheckName::parse("web.up").unwrap(),
        );
        assert_eq!(name, "Net_101__A_-web_up-results.csv");
    }
}
