use crate::client::{ApiRequest, Client};
use crate::error::Result;
use crate::models::Version;

impl Client {
    /// `GET /version`: the PVE release. A cheap call to check connectivity and credentials.
    ///
    /// # Errors
    /// Any [`crate::Error`]; [`crate::Error::Authentication`] for bad credentials.
    pub async fn version(&self) -> Result<Version> {
        self.call(ApiRequest::get(&["version"])).await
    }
}
