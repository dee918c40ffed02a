//! Every SQL identifier the core uses, in one place, as sea-query `Iden`s.
//!
//! The names mirror `migrations/*.sql`. Every table and column of the schema is listed, including
//! those only the next issue's jobs (inventory, addresses, ISOs, templates) will query, so that
//! all SQL names live here; the unused ones are allowed below for that reason.
#![allow(dead_code)]

use sea_query::Iden;

/// `clusters`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum Clusters {
    Table,
    Id,
    ClusterId,
    Name,
    Host,
    Port,
    User,
    Password,
    ApiTokenId,
    ApiTokenSecret,
    VerifySsl,
    IsDefault,
    IsActive,
    AllowVmDeployment,
    AllowTemplateSync,
    AllowIsoSync,
    AutoShutdownEnabled,
    Priority,
    DefaultStorage,
    TemplateStorage,
    Qcow2TemplatePath,
    Qcow2ImagesPath,
    AdminGroup,
    AdminUsers,
    ArpSubnets,
    VmCacheTtl,
    EnableIpLookup,
    EnableIpPersistence,
    Description,
    CreatedAt,
    UpdatedAt,
    // 0006_cluster_trust
    TlsFingerprint,
    TlsCaPem,
    Revision,
}

/// `system_settings`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum SystemSettings {
    Table,
    Id,
    Key,
    Value,
    Description,
    UpdatedAt,
}

/// `users`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    Role,
    CreatedAt,
    ExternalId,
    DisplayName,
}

/// `templates`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum Templates {
    Table,
    Id,
    Name,
    ProxmoxVmid,
    ClusterIp,
    Node,
    IsReplica,
    SourceVmid,
    SourceNode,
    CreatedById,
    IsClassTemplate,
    ClassId,
    OriginalTemplateId,
    CpuCores,
    CpuSockets,
    MemoryMb,
    DiskSizeGb,
    DiskStorage,
    DiskPath,
    DiskFormat,
    NetworkBridge,
    OsType,
    SpecsCachedAt,
    CreatedAt,
    LastVerifiedAt,
    ClusterId,
}

/// `classes`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum Classes {
    Table,
    Id,
    Name,
    Description,
    TeacherId,
    TemplateId,
    JoinToken,
    TokenExpiresAt,
    TokenNeverExpires,
    PoolSize,
    CpuCores,
    MemoryMb,
    DiskSizeGb,
    VmidPrefix,
    DeploymentNode,
    DeploymentCluster,
    AutoShutdownEnabled,
    AutoShutdownCpuThreshold,
    AutoShutdownIdleMinutes,
    RestrictHours,
    HoursStart,
    HoursEnd,
    MaxUsageHours,
    CreatedAt,
    UpdatedAt,
    TimeZone,
    VmidScheme,
    ScopeId,
    DeletingSince,
}

/// `vmid_blocks`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum VmidBlocks {
    Table,
    Block,
    ClassId,
}

/// `vm_assignments`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum VmAssignments {
    Table,
    Id,
    ClassId,
    ProxmoxVmid,
    VmName,
    MacAddress,
    CachedIp,
    IpUpdatedAt,
    Node,
    AssignedUserId,
    Status,
    IsTemplateVm,
    IsTeacherVm,
    ManuallyAdded,
    UsageHours,
    UsageLastReset,
    CreatedAt,
    AssignedAt,
    ClusterId,
    Slot,
    NeedsReimage,
}

/// `student_usage`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum StudentUsage {
    Table,
    ClassId,
    UserId,
    UsageHours,
    QuotaWarnedPercent,
    UsageLastReset,
}

/// `vm_inventory` (filled by the inventory job).
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum VmInventory {
    Table,
    Id,
    ClusterId,
    Vmid,
    Name,
    Node,
    Status,
    Type,
    Category,
    Ip,
    MacAddress,
    Memory,
    Cores,
    DiskSize,
    Uptime,
    CpuUsage,
    MemoryUsage,
    IsTemplate,
    Tags,
    RdpAvailable,
    SshAvailable,
    LastUpdated,
    LastStatusCheck,
    SyncError,
    OsType,
    Ipv6,
}

/// `vm_ip_cache`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum VmIpCache {
    Table,
    Vmid,
    MacAddress,
    CachedIp,
    IpUpdatedAt,
    ClusterId,
    Ipv6,
}

/// `iso_images`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum IsoImages {
    Table,
    Id,
    Volid,
    Name,
    Size,
    Node,
    Storage,
    ClusterId,
    DiscoveredAt,
    LastSeen,
}

/// `class_enrollments`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum ClassEnrollments {
    Table,
    UserId,
    ClassId,
    EnrolledAt,
}

/// `class_co_owners`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum ClassCoOwners {
    Table,
    UserId,
    ClassId,
    AddedAt,
}

/// `waitlist`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum Waitlist {
    Table,
    Id,
    ClassId,
    UserId,
    EnqueuedAt,
}

/// `outbox`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum Outbox {
    Table,
    Id,
    Kind,
    RecipientId,
    ClassId,
    Payload,
    CreatedAt,
}

/// `outbox_cursors`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum OutboxCursors {
    Table,
    Consumer,
    AckedId,
    UpdatedAt,
}

/// `sqlite_sequence`: SQLite's record of the highest id each AUTOINCREMENT table ever issued
/// (it survives deleting the rows, which is what makes outbox ids never reused).
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum SqliteSequence {
    Table,
    Name,
    Seq,
}

/// `schema_migrations` (created by the migration runner, not by a migration file).
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum SchemaMigrations {
    Table,
    Version,
    Name,
    AppliedAt,
}

// 0009_checks_submissions

/// `class_checks`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum ClassChecks {
    Table,
    Id,
    ClassId,
    Name,
    Command,
    TimeoutSecs,
    ExpectExit,
    ExpectOutput,
    CreatedBy,
    CreatedAt,
}

/// `check_results`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum CheckResults {
    Table,
    Id,
    CheckId,
    ClassId,
    UserId,
    ClusterId,
    Vmid,
    Outcome,
    ExitCode,
    FirstLine,
    RanAt,
}

/// `submissions`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum Submissions {
    Table,
    Id,
    ClassId,
    UserId,
    ClusterId,
    Vmid,
    Snapshot,
    TakenAt,
    Automatic,
}

/// `class_deadlines`.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum ClassDeadlines {
    Table,
    ClassId,
    Deadline,
    TakenAt,
}

/// `cluster_sync_status`: how each background job last went on each cluster.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum ClusterSyncStatus {
    Table,
    ClusterId,
    Job,
    LastStartedAt,
    LastFinishedAt,
    LastSuccessAt,
    LastError,
    ConsecutiveFailures,
    RowsWritten,
    RowsRemoved,
}

/// `vm_watch`: what the background jobs know and decided about each pool VM.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum VmWatch {
    Table,
    ClusterId,
    Vmid,
    UsageAccountedAt,
    HoursWarnedFor,
    IdleWarnedAt,
    ShutdownReason,
    ShutdownDecidedAt,
    ShutdownRequestedAt,
    ShutdownAttempts,
    ImageTemplateId,
    ReimageTemplateId,
    ReimageWhen,
    ReimageDueAt,
}

/// `vm_cpu_samples`: CPU samples of pool VMs watched for idleness.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum VmCpuSamples {
    Table,
    ClusterId,
    Vmid,
    At,
    Percent,
}

/// The step columns `migrations/0008_pool_steps.sql` adds to `vm_assignments` (kept apart from
/// [`VmAssignments`] so the orchestration's columns are listed in one block).
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum PoolSteps {
    #[iden = "step"]
    Step,
    #[iden = "step_upid"]
    StepUpid,
    #[iden = "step_error"]
    StepError,
    #[iden = "step_attempts"]
    StepAttempts,
    #[iden = "next_try_at"]
    NextTryAt,
    #[iden = "step_changed_at"]
    StepChangedAt,
    #[iden = "power"]
    Power,
    #[iden = "power_seen_at"]
    PowerSeenAt,
}

/// `managed_pools`: classes whose pool pvelab builds and keeps on a cluster.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum ManagedPools {
    Table,
    ClassId,
    ClusterId,
    Since,
}

/// `pool_operations`: what each pool operation did.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum PoolOperations {
    Table,
    Id,
    ClassId,
    Kind,
    StartedBy,
    StartedAt,
    FinishedAt,
    Total,
    Ready,
    Failed,
    Summary,
}

// 0011_sessions_audit

/// `class_sessions`: scheduled class time, weekly or once.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum ClassSessions {
    Table,
    Id,
    ClassId,
    Weekday,
    OnDate,
    StartMinute,
    EndMinute,
    CreatedBy,
    CreatedAt,
}

/// `session_runs`: what the sessions job did for each occurrence.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum SessionRuns {
    Table,
    SessionId,
    StartsAt,
    EndsAt,
    AnnouncedAt,
    StartedAt,
    WarnedAt,
    EndedAt,
}

/// `session_usage`: running hours inside sessions per student.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum SessionUsage {
    Table,
    ClassId,
    UserId,
    SessionHours,
}

/// `audit_log`: every change by a person or the system.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum AuditLog {
    Table,
    Id,
    At,
    ActorId,
    ActorRole,
    Action,
    ClassId,
    ClassName,
    SubjectId,
    Detail,
    Outcome,
}

/// `audit_cursors`: how far each audit feed has delivered the trail.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum AuditCursors {
    Table,
    Consumer,
    AckedId,
    UpdatedAt,
}

// 0012_usage_samples

/// `usage_hourly`: running hours charged to a student in a class, per UTC hour.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum UsageHourly {
    Table,
    ClassId,
    UserId,
    Hour,
    Hours,
    SessionHours,
}

/// `shutdown_log`: every automatic shutdown announced, with its reason's kind.
#[derive(Iden, Clone, Copy, Debug)]
pub(crate) enum ShutdownLog {
    Table,
    Id,
    ClassId,
    UserId,
    Vmid,
    Reason,
    At,
}
