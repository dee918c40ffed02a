use serde::{Deserialize, Serialize};

/// Time span of `rrddata`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RrdTimeframe {
    /// Last hour, 60-second samples.
    Hour,
    /// Last day.
    Day,
    /// Last week.
    Week,
    /// Last month.
    Month,
    /// Last year.
    Year,
}

/// Consolidation function of `rrddata`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RrdCf {
    /// Average over each sample.
    #[serde(rename = "AVERAGE")]
    Average,
    /// Maximum over each sample.
    #[serde(rename = "MAX")]
    Max,
}

/// One sample of `GET .../rrddata`. Keys are missing when there was no data.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RrdPoint {
    /// Unix time of the sample.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub time: Option<u64>,
    /// CPU use as a fraction.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub cpu: Option<f64>,
    /// vCPUs.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub maxcpu: Option<f64>,
    /// Used memory in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub mem: Option<f64>,
    /// Memory in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub maxmem: Option<f64>,
    /// Received bytes per second.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub netin: Option<f64>,
    /// Sent bytes per second.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub netout: Option<f64>,
    /// Disk read bytes per second.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub diskread: Option<f64>,
    /// Disk write bytes per second.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub diskwrite: Option<f64>,
}
