//! The inputs and outputs of the [`Lab`](crate::Lab) facade, in one place.
//!
//! Front ends and embedders import from here and from the crate root; everything else of the
//! crate (storage, the SQL schema, the rule functions) is internal and may change freely.

mod audit;
mod sessions;

pub use audit::{AuditEntry, AuditOutcome, AuditQuery};
pub(crate) use sessions::next_of as next_session_of;
pub use sessions::{
    ClassSession, NextSession, SessionDay, SessionId, SessionPlan, SessionSpan, SessionTime,
};

pub use crate::capacity::{CapacityPlan, NodePlan, SpecsSource};
pub use crate::checks::{
    summary_line, CheckCommand, CheckDefinition, CheckName, CheckOutcome, CheckTimeout, CommandEnd,
    ExitCode, OutputPattern, PassRule,
};
pub use crate::events::{ConsumerName, EventId, OutboxEvent, PruneReport};
pub use crate::lab::{CheckRun, DueSubmissions, OwnCheckRun, SubmissionFailure};
pub use crate::lab::{ClusterCheck, ClusterTimeouts, NodeCheck, ProxmoxRequests};
pub use crate::lab::{
    ImportedClass, JoinOutcome, KeepRunning, LeaveOutcome, MyVm, MyVms, PublishOutcome,
    ReimageWait, StudentView, TokenRotation, UsageUpdate, VmOutcome, VmState, WaitlistPlace,
};
pub use crate::pools::{
    ClusterReconciliation, Discrepancy, Operation, OperationKind, OperationSummary, PoolAudit,
    PoolsConfig, Progress, ProgressEvent, ReconcileReport,
};
pub use crate::reports::{ReportPeriod, RunningPoint, RunningStep, StudentUsageLine, UsageReport};
pub use crate::rules::idle::{CpuSample, IdlePolicy, IdleVerdict};
pub use crate::rules::permissions::{Action, Actor, Requirement};
pub use crate::rules::quota::{QuotaLevel, QuotaStatus};
pub use crate::rules::start::{StartDecision, StartRefusal};
pub use crate::settings_keys::{SettingKey, SettingValue, SystemSettings};
pub use crate::store::checks::{Check, CheckRow};
pub use crate::store::class_settings::ClassSettings;
pub use crate::store::classes::{AutoShutdown, Class, ClassDeletion, NewClass};
pub use crate::store::clone_sources::{NewTemplate, TemplateInfo};
pub use crate::store::cluster_jobs::{ClusterJobChange, ClusterJobSettings};
pub use crate::store::clusters::{Cluster, ClusterChange, ClusterCredential, NewCluster};
pub use crate::store::enrollment::Enrollment;
pub use crate::store::inventory::{GuestCategory, GuestKind, GuestState, InventoryEntry};
pub use crate::store::isos::IsoImage;
pub use crate::store::pool::{
    NewPoolVm, PoolVm, PoolVmState, PowerState, VmRole, VmStatus, VmStep,
};
pub use crate::store::submissions::{Submission, SubmissionDeadline};
pub use crate::store::templates::{TemplateRecord, TemplateSpecs};
pub use crate::store::usage::StudentUsage;
pub use crate::store::users::User;
pub use crate::store::vm_watch::PublishMode;
pub use crate::token::{JoinToken, TokenExpiry, TokenLifetime};
