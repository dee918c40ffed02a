//! The one error type of the simulator library.

/// What can go wrong while starting or controlling a simulator.
///
/// Errors of the simulated Proxmox API itself are not Rust errors: they are HTTP answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration holds a value the simulator cannot use.
    #[error("invalid simulator configuration: {key} = {value}; allowed: {allowed}")]
    Config {
        /// The configuration key, as written in `sim.toml`.
        key: &'static str,
        /// The rejected value.
        value: String,
        /// What would have been accepted.
        allowed: &'static str,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: std::net::SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The self-signed certificate or the TLS configuration could not be built.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A control call named a guest that does not exist.
    #[error("no guest with VMID {vmid} (the simulator knows VMIDs it created or populated)")]
    NoSuchGuest {
        /// The VMID that was asked for.
        vmid: u32,
    },
    /// A control call wanted to create a guest at a VMID that is taken.
    #[error("VMID {vmid} is taken (pick a free one, or delete that guest first)")]
    GuestExists {
        /// The VMID that was asked for.
        vmid: u32,
    },
    /// A control call named a node that does not exist.
    #[error("no node named '{node}' (nodes are pve1..pveN)")]
    NoSuchNode {
        /// The node name that was asked for.
        node: String,
    },
    /// A control value was out of range (for example a rate above 1).
    #[error("invalid value for {what}: {value} ({allowed})")]
    InvalidValue {
        /// Which value.
        what: &'static str,
        /// The rejected value.
        value: String,
        /// What would have been accepted.
        allowed: &'static str,
    },
}

/// The result type of the simulator library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
