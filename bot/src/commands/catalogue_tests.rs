use std::collections::HashSet;

use super::*;

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

#[test]
fn every_command_id_has_exactly_one_entry() {
    let mut seen = HashSet::new();
    for spec in COMMANDS {
        assert!(seen.insert(spec.id), "{:?} listed twice", spec.id);
    }
    assert_eq!(seen.len(), 51);
}

#[test]
fn names_and_descriptions_fit_discords_limits() {
    let name_ok = |n: &str| {
        (1..=32).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    for spec in COMMANDS {
        assert!(spec.path.iter().all(|n| name_ok(n)), "{:?}", spec.path);
        assert!(
            (1..=100).contains(&spec.description.chars().count()),
            "{:?}",
            spec.path
        );
        assert!(spec.options.len() <= 25);
        for o in spec.options {
            assert!(name_ok(o.name), "{}", o.name);
            assert!(
                (1..=100).contains(&o.description.chars().count()),
                "{}",
                o.name
            );
        }
    }
    for (_, description) in GROUPS {
        assert!((1..=100).contains(&description.chars().count()));
    }
}

#[test]
fn required_options_come_before_optional_ones_and_names_are_unique() {
    for spec in COMMANDS {
        let first_optional = spec.options.iter().position(|o| !o.required);
        if let Some(i) = first_optional {
            assert!(
                spec.options[i..].iter().all(|o| !o.required),
                "{:?}",
                spec.path
            );
        }
        let names: HashSet<_> = spec.options.iter().map(|o| o.name).collect();
        assert_eq!(names.len(), spec.options.len(), "{:?}", spec.path);
    }
}

#[test]
fn every_command_that_holds_others_has_a_description_and_is_not_itself_a_command() {
    for spec in COMMANDS {
        for depth in 1..spec.path.len() {
            let prefix = &spec.path[..depth];
            assert!(
                GROUPS.iter().any(|(p, _)| *p == prefix),
                "no description for {prefix:?}"
            );
            assert!(
                COMMANDS.iter().all(|s| s.path != prefix),
                "{prefix:?} is both a command and a group"
            );
        }
    }
    assert!(names_under(&[]).len() <= 100);
    for (prefix, _) in GROUPS {
        assert!((1..=25).contains(&names_under(prefix).len()), "{prefix:?}");
    }
}

#[test]
fn a_command_is_found_by_its_names() {
    assert_eq!(find("join", &[]).unwrap().id, CommandId::Join);
    assert_eq!(
        find("class", &words(&["coowner", "add"])).unwrap().id,
        CommandId::ClassCoownerAdd
    );
    assert_eq!(spec(CommandId::PoolResize).usage_name(), "/pool resize");
}

#[test]
fn an_unknown_command_lists_the_commands() {
    let e = find("jion", &[]).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("unknown command `/jion`; the commands are /join, /myvm, /vm"));
}

#[test]
fn a_missing_or_unknown_subcommand_lists_the_subcommands() {
    assert_eq!(
        find("vm", &[]).unwrap_err().to_string(),
        "`/vm` needs a subcommand: start, stop, restart, revert, reimage, rdp, ip, check, submit"
    );
    assert_eq!(
        find("class", &words(&["coowner", "invite"]))
            .unwrap_err()
            .to_string(),
        "`/class coowner` has no subcommand `invite`; it has add, remove"
    );
}

#[test]
fn a_word_after_a_complete_command_is_refused() {
    assert_eq!(
        find("join", &words(&["now"])).unwrap_err(),
        LookupError::NoSubcommands {
            command: "/join".into(),
            name: "now".into()
        }
    );
}

#[test]
fn commands_that_wait_on_proxmox_and_personal_ones_are_marked() {
    let marked = |id| {
        let s = spec(id);
        (s.may_call_proxmox, s.personal)
    };
    assert_eq!(marked(CommandId::PoolResize), (true, false));
    assert_eq!(marked(CommandId::VmStart), (true, true));
    assert_eq!(marked(CommandId::MyVm), (true, true));
    assert_eq!(marked(CommandId::ClassToken), (false, true));
    assert_eq!(marked(CommandId::ClassList), (false, false));
    // Every command of /vm is about the caller's own VM, and none is only local.
    for s in COMMANDS.iter().filter(|s| s.path[0] == "vm") {
        assert!(s.personal && s.may_call_proxmox, "{:?}", s.path);
    }
}
