//! From the connection options to a [`Client`], and the runtime the commands run on.

use std::path::Path;

use anyhow::{Context as _, Result};
use pbx_client::{Client, ClientBuilder};
use percent_encoding::percent_decode_str;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::cli::Remote;
use crate::failure::{self, Usage};
use crate::profile::{self, Connection};

/// The client the connection options of `remote` describe (with the
/// environment and the client configuration file: [`crate::profile`]).
pub(crate) fn client(remote: &Remote) -> Result<Client> {
    client_with(remote, |builder| builder)
}

/// [`client`], with `adjust` applied to the builder (for `call --extensions`).
pub(crate) fn client_with(
    remote: &Remote,
    adjust: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Result<Client> {
    build(&profile::connection(remote)?, |url| {
        adjust(Client::builder(url))
    })
}

/// The client of `connection`, from the builder `start` makes for its URL.
///
/// The user and password take precedence over credentials in the URL; a
/// password alone goes with the user named in the URL (`http://203@host/RPC2`).
pub(crate) fn build(
    connection: &Connection,
    start: impl FnOnce(&str) -> ClientBuilder,
) -> Result<Client> {
    let mut builder = start(&connection.url).timeout(connection.timeout);
    if let Some(path) = &connection.ca {
        for der in ca_certificates(path)? {
            builder = builder.add_root_certificate_der(der);
        }
    }
    match (&connection.user, &connection.password) {
        (Some(user), Some(password)) => builder = builder.credentials(user, password),
        (Some(_), None) => {
            return Err(Usage(
                "a user needs a password: --password, SWITCHBOARD_PASSWORD or a profile's \
                 password_command"
                    .into(),
            )
            .into());
        }
        (None, Some(password)) => match url_user(&connection.url) {
            Some(user) => builder = builder.credentials(user, password),
            None => {
                return Err(Usage(
                    "a password needs a user: --user, SWITCHBOARD_USER or the URL".into(),
                )
                .into());
            }
        },
        (None, None) => {}
    }
    Ok(builder.build()?)
}

/// The certificates of a PEM file given with `--ca` (at least one).
fn ca_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let pem = std::fs::read(path)
        .with_context(|| format!("cannot read the CA file {}", path.display()))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Usage(format!(
                "{}: not a PEM certificate file: {e}",
                path.display()
            ))
        })?;
    if certificates.is_empty() {
        return Err(Usage(format!("{}: no PEM certificate in it", path.display())).into());
    }
    Ok(certificates)
}

/// The user named in a URL's user info, if any.
pub(crate) fn url_user(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let user = userinfo.split(':').next()?;
    let user = percent_decode_str(user).decode_utf8().ok()?;
    (!user.is_empty()).then(|| user.into_owned())
}

/// Runs `work`, which uses `client`, to completion on a single-threaded runtime (a
/// command line makes one call at a time, or a few joined). A 401 says whether
/// credentials were given.
pub(crate) fn block_on<T>(client: &Client, work: impl Future<Output = Result<T>>) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(work)
        .map_err(|error| failure::explain_unauthorized(error, client.user()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_in_a_url() {
        assert_eq!(url_user("http://203@h:1/RPC2").as_deref(), Some("203"));
        assert_eq!(url_user("http://203:pw@h/RPC2").as_deref(), Some("203"));
        assert_eq!(url_user("http://a%40b@h/").as_deref(), Some("a@b"));
        assert_eq!(url_user("http://h:1/RPC2?a=b@c"), None);
        assert_eq!(url_user("http://:pw@h/"), None);
        assert_eq!(url_user("h:1"), None);
    }
}
