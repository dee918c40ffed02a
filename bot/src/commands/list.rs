//! The list of every command and option (data only; the types are in `catalogue`).
//!
//! Kept as one table, one command per entry, so a reader sees the whole command surface at a
//! glance; `rustfmt` is told to leave its layout alone.

use pvelab_core::types::Role;

use super::catalogue::{CommandId as C, CommandSpec, OptionKind as K, OptionSpec};

const fn req(name: &'static str, description: &'static str, kind: K) -> OptionSpec {
    OptionSpec {
        name,
        description,
        required: true,
        kind,
    }
}

const fn opt(name: &'static str, description: &'static str, kind: K) -> OptionSpec {
    OptionSpec {
        name,
        description,
        required: false,
        kind,
    }
}

const fn cmd(
    id: C,
    path: &'static [&'static str],
    role: Role,
    description: &'static str,
    options: &'static [OptionSpec],
) -> CommandSpec {
    CommandSpec {
        id,
        path,
        description,
        role,
        options,
        may_call_proxmox: false,
        personal: false,
    }
}

const CLASS: OptionSpec = req("class", "The class", K::Class);
const VM_OPTIONS: &[OptionSpec] = &[opt(
    "class",
    "The class of the VM (needed if you are in several)",
    K::Class,
)];
const MEMORY: OptionSpec = opt("memory", "Memory per VM: 4096 (MiB), 512M, 4G", K::Memory);
const DISK: OptionSpec = opt("disk", "Disk per VM: 32 (GB), 32G", K::Disk);
const CPU: OptionSpec = opt("cpu", "CPU cores per VM", K::Cores);
pub(crate) const SYNC_WHAT: &[&str] = &["all", "inventory", "ips", "isos", "templates", "usage"];
pub(crate) const PUBLISH_WHEN: &[&str] = &["now", "next-stop"];

/// Descriptions of the commands and subcommand groups that only contain other commands
/// (Discord needs one for each).
pub static GROUPS: &[(&[&str], &str)] = &[
    (&["vm"], "Control your VM"),
    (&["class"], "Create and manage classes"),
    (&["class", "coowner"], "Share a class with another teacher"),
    (
        &["class", "session"],
        "Scheduled class time: VMs started before, stopped after",
    ),
    (&["pool"], "The VMs of a class"),
    (&["template"], "Templates classes are cloned from"),
    (&["cluster"], "Proxmox clusters"),
    (&["settings"], "System settings"),
    (&["role"], "People's roles"),
    (&["sync"], "Refresh what pvelab knows from Proxmox"),
    (&["iso"], "ISO images"),
    (
        &["check"],
        "Commands that check students' VMs through the guest agent",
    ),
    (&["report"], "Reports on how classes use their VMs"),
];

/// Every command, in the order help lists them.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    // students
    cmd(C::Join, &["join"], Role::User, "Join a class with the token your teacher gave you",
        &[req("token", "The join token", K::Token)]).personal(),
    cmd(C::MyVm, &["myvm"], Role::User, "Show your VMs: state, address, usage and allowed hours",
        &[opt("class", "Only the VM of this class", K::Class)]).proxmox().personal(),
    cmd(C::VmStart, &["vm", "start"], Role::User, "Start your VM", VM_OPTIONS).proxmox().personal(),
    cmd(C::VmStop, &["vm", "stop"], Role::User, "Stop your VM", VM_OPTIONS).proxmox().personal(),
    cmd(C::VmRestart, &["vm", "restart"], Role::User, "Restart your VM", VM_OPTIONS).proxmox().personal(),
    cmd(C::VmRevert, &["vm", "revert"], Role::User,
        "Put your VM back to its last snapshot", VM_OPTIONS).proxmox().personal(),
    cmd(C::VmReimage, &["vm", "reimage"], Role::User,
        "Replace your VM with a fresh copy of the class template", VM_OPTIONS).proxmox().personal(),
    cmd(C::VmRdp, &["vm", "rdp"], Role::User, "Get a ready .rdp file for your VM", VM_OPTIONS).proxmox().personal(),
    cmd(C::VmIp, &["vm", "ip"], Role::User, "Show your VM's address", VM_OPTIONS).proxmox().personal(),
    cmd(C::VmCheck, &["vm", "check"], Role::User,
        "Run your class's checks on your VM and see what passes", VM_OPTIONS).proxmox().personal(),
    cmd(C::VmSubmit, &["vm", "submit"], Role::User,
        "Hand in your work: save your VM as a snapshot your teacher sees", VM_OPTIONS).proxmox().personal(),
    cmd(C::Leave, &["leave"], Role::User, "Leave a class and give back its VM", &[CLASS]).personal(),
    // teachers
    cmd(C::ClassCreate, &["class", "create"], Role::Teacher, "Create a class with a pool of VMs", &[
        req("name", "The class name (letters, digits, spaces, - _ . + ( ))", K::ClassName),
        req("template", "The template to clone: its VMID or name", K::Template),
        req("pool", "How many student VMs", K::PoolSize),
        CPU, MEMORY, DISK,
        opt("node", "The Proxmox node to place VMs on", K::Node),
        opt("cluster", "The cluster to use (else the default one)", K::Cluster),
    ]).proxmox(),
    cmd(C::ClassList, &["class", "list"], Role::Teacher, "List the classes you teach", &[]),
    cmd(C::ClassInfo, &["class", "info"], Role::Teacher,
        "Show a class: settings, pool, students", &[CLASS]),
    cmd(C::ClassSettings, &["class", "settings"], Role::Teacher,
        "Change a class's hours, quota, idle shutdown or VM size", &[
        CLASS,
        opt("hours", "Allowed hours, e.g. 08-18 or 22-06; always for no limit", K::Hours),
        opt("timezone", "Time zone of the hours, e.g. Europe/Berlin", K::TimeZone),
        opt("quota", "Running hours per student; 0 for no limit", K::Quota),
        opt("idle", "Shut down idle VMs after e.g. 30m; off to keep them", K::Idle),
        CPU, MEMORY, DISK,
    ]),
    cmd(C::ClassToken, &["class", "token"], Role::Teacher,
        "Make a new join token (the old one stops working)", &[
        CLASS,
        opt("expires", "never, or how long it works: 90m, 12h, 7d", K::Expires),
    ]).personal(),
    cmd(C::ClassRevokeToken, &["class", "revoke-token"], Role::Teacher,
        "Stop the join token from working", &[CLASS]),
    cmd(C::ClassCoownerAdd, &["class", "coowner", "add"], Role::Teacher,
        "Let another teacher manage the class", &[CLASS, req("user", "The teacher", K::User)]),
    cmd(C::ClassCoownerRemove, &["class", "coowner", "remove"], Role::Teacher,
        "Stop a co-owner from managing the class", &[CLASS, req("user", "The co-owner", K::User)]),
    cmd(C::ClassStudents, &["class", "students"], Role::Teacher,
        "List a class's students and their VMs", &[CLASS]),
    cmd(C::ClassDelete, &["class", "delete"], Role::Teacher,
        "Delete a class and its VMs (asks to confirm)", &[
        CLASS,
        opt("confirm", "yes to delete without asking again", K::Flag),
    ]).proxmox(),
    cmd(C::ClassSubmissions, &["class", "submissions"], Role::Teacher,
        "List the students' submissions and the deadline", &[CLASS]),
    cmd(C::ClassDeadline, &["class", "deadline"], Role::Teacher,
        "Set when every student VM is snapshotted as a submission", &[
        CLASS,
        req("at", "2026-02-01 18:00 (class time zone), 2026-02-01T17:00Z, 2d from now, or none",
            K::Deadline),
    ]),
    cmd(C::ClassImport, &["class", "import"], Role::Teacher,
        "Adopt existing VMs of a VMID prefix as a class", &[
        req("cluster", "The cluster the VMs are on", K::Cluster),
        req("prefix", "Their VMID prefix (12 for 1200-1299)", K::VmidPrefix),
    ]).proxmox(),
    cmd(C::PoolStatus, &["pool", "status"], Role::Teacher,
        "Show a class's VMs: ready, assigned, failed", &[CLASS]).proxmox(),
    cmd(C::PoolResize, &["pool", "resize"], Role::Teacher,
        "Grow or shrink a class's pool of VMs", &[
        CLASS,
        req("size", "The new number of student VMs", K::PoolSize),
        opt("force", "yes to also remove VMs students hold", K::Flag),
    ]).proxmox(),
    cmd(C::PoolAssign, &["pool", "assign"], Role::Teacher, "Give a student a VM", &[
        CLASS,
        req("user", "The student", K::User),
        opt("vm", "This VM (its VMID) rather than any free one", K::Vmid),
    ]),
    cmd(C::PoolUnassign, &["pool", "unassign"], Role::Teacher,
        "Take a VM back from a student", &[CLASS, req("user", "The student", K::User)]),
    cmd(C::PoolResetUsage, &["pool", "reset-usage"], Role::Teacher,
        "Reset used hours for a student or the whole class", &[
        CLASS,
        opt("user", "Only this student", K::User),
    ]),
    cmd(C::PoolRollback, &["pool", "rollback"], Role::Teacher,
        "Roll a student's VM back to a submission for grading (asks to confirm)", &[
        CLASS,
        req("user", "The student", K::User),
        req("snapshot", "The submission's snapshot, as /class submissions lists it", K::Snapshot),
        opt("confirm", "yes to roll back without asking again", K::Flag),
    ]).proxmox(),
    cmd(C::CheckAdd, &["check", "add"], Role::Teacher,
        "Define a command that checks each student VM (shows it back to confirm)", &[
        CLASS,
        req("name", "The check's name, e.g. web-up", K::Check),
        req("command", "Program and arguments, run as root in each VM: systemctl is-active nginx",
            K::Command),
        opt("timeout", "How long it may run: 30 (seconds, the default) up to 10m", K::Timeout),
        opt("expect-exit", "The exit code that passes (0 when nothing is expected)", K::Integer),
        opt("expect-output", "A regular expression the output must match, e.g. ^active$",
            K::Pattern),
        opt("confirm", "yes to add it without showing it back first", K::Flag),
    ]),
    cmd(C::CheckList, &["check", "list"], Role::Teacher, "List a class's checks", &[CLASS]),
    cmd(C::CheckRemove, &["check", "remove"], Role::Teacher,
        "Remove a check and its results", &[CLASS, req("name", "The check", K::Check)]),
    cmd(C::CheckRun, &["check", "run"], Role::Teacher,
        "Run a check on every student VM and show what passes", &[
        CLASS,
        req("check", "The check", K::Check),
        opt("csv", "yes to attach every stored result of the check as CSV", K::Flag),
    ]).proxmox(),
    cmd(C::TemplateList, &["template", "list"], Role::Teacher,
        "List the templates you may use", &[]).proxmox(),
    cmd(C::TemplatePublish, &["template", "publish"], Role::Teacher,
        "Make the teacher VM the class's new template (asks to confirm)", &[
        CLASS,
        opt("when", "now, or at the teacher VM's next stop", K::Choice(PUBLISH_WHEN)),
        opt("confirm", "yes to publish without asking again", K::Flag),
    ]).proxmox(),
    // adminers
    cmd(C::ClusterList, &["cluster", "list"], Role::Adminer, "List the clusters", &[]),
    cmd(C::ClusterTest, &["cluster", "test"], Role::Adminer,
        "Check that pvelab can reach and log in to clusters",
        &[opt("cluster", "Only this cluster", K::Cluster)]).proxmox(),
    cmd(C::ClusterSet, &["cluster", "set"], Role::Adminer, "Change how a cluster is used", &[
        req("cluster", "The cluster", K::Cluster),
        opt("active", "yes to use it, no to leave it alone", K::Flag),
        opt("deployment", "yes to allow new class VMs on it", K::Flag),
        opt("priority", "Higher is chosen first for new VMs: -1000 to 1000", K::Integer),
        opt("template-sync", "yes to record its templates", K::Flag),
        opt("iso-sync", "yes to record its ISO images", K::Flag),
        opt("idle-shutdown", "yes to shut idle VMs down on it", K::Flag),
        opt("ip-lookup", "yes to look VM addresses up", K::Flag),
        opt("cache-ttl", "Seconds a VM's read state stays fresh: 0 to 86400", K::Integer),
    ]),
    cmd(C::SettingsGet, &["settings", "get"], Role::Adminer, "Show system settings",
        &[opt("key", "Only this setting", K::SettingKey)]),
    cmd(C::SettingsSet, &["settings", "set"], Role::Adminer, "Change a system setting", &[
        req("key", "The setting", K::SettingKey),
        req("value", "Its new value", K::SettingValue),
    ]),
    cmd(C::RoleSet, &["role", "set"], Role::Adminer, "Set a person's pvelab role", &[
        req("user", "The person", K::User),
        req("role", "user, teacher or adminer", K::Role),
    ]),
    cmd(C::SyncNow, &["sync", "now"], Role::Adminer,
        "Refresh from Proxmox now instead of at the next interval",
        &[opt("what", "What to refresh (default: all)", K::Choice(SYNC_WHAT))]).proxmox(),
    cmd(C::IsoList, &["iso", "list"], Role::Adminer, "List ISO images",
        &[opt("cluster", "Only this cluster", K::Cluster)]).proxmox(),
    // lab sessions and the audit trail
    cmd(C::ClassSessionAdd, &["class", "session", "add"], Role::Teacher,
        "Schedule class time: weekly (day) or once (date), in the class's time zone", &[
        CLASS,
        req("start", "When it starts, e.g. 09:00", K::TimeOfDay),
        req("end", "When it ends, e.g. 11:00 (the same day)", K::TimeOfDay),
        opt("day", "Every week on this day, e.g. monday", K::Weekday),
        opt("date", "Once on this date, e.g. 2027-01-15", K::Date),
    ]),
    cmd(C::ClassSessionList, &["class", "session", "list"], Role::User,
        "List a class's sessions and the next one", &[CLASS]),
    cmd(C::ClassSessionRemove, &["class", "session", "remove"], Role::Teacher,
        "Remove a session of a class", &[
        CLASS,
        req("session", "Its number, as /class session list shows it", K::Integer),
    ]),
    cmd(C::Audit, &["audit"], Role::Teacher,
        "Show who changed what: the latest audit entries (teachers: of their classes)", &[
        opt("class", "Only this class (teachers must name one)", K::Class),
        opt("user", "Only changes by or about this person", K::User),
    ]),
    // reports and capacity
    cmd(C::ReportUsage, &["report", "usage"], Role::Teacher,
        "A class's usage over a period: hours, idle shutdowns, quota, energy; with CSV and chart", &[
        CLASS,
        opt("from", "First day, 2027-01-11, in the class's time zone (default: oldest history)",
            K::Date),
        opt("to", "Last day, 2027-01-15 (default: today)", K::Date),
    ]),
    cmd(C::PoolPlan, &["pool", "plan"], Role::Teacher,
        "Estimate whether a pool of this size fits its nodes' memory (changes nothing)", &[
        CLASS,
        req("size", "The number of student VMs to plan for", K::PoolSize),
    ]).proxmox(),
];
