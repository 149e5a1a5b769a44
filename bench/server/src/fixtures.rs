//! The fixture PBX and the requests: its groups, the calls measured, their bodies,
//! and setting a running switchboard up for them.

use std::fmt::Write as _;
use std::net::SocketAddr;

use anyhow::{Result, bail};
use base64::Engine as _;

use crate::client::KeepAlive;

/// The bench user's password; every group's user is its first extension.
pub(crate) const PASSWORD: &str = "bench";
/// The key `dict_get` reads, and what it holds (a typical CRM URL template).
pub(crate) const KEY: &str = "crm.url";
pub(crate) const VALUE: &str = "https://crm.example/lookup?phone={number}";
pub(crate) const CONNECTIONS: [usize; 2] = [1, 16];

/// A row of the peer table: what is called.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call {
    /// Also the file name of its captured answer and the floor's path.
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
}

pub(crate) const CALLS: [Call; 4] = [
    Call {
        name: "dict_get",
        label: "`dict_get`",
    },
    Call {
        name: "get_calls",
        label: "`get_calls` (50 calls)",
    },
    Call {
        name: "get_extensions",
        label: "`get_extensions` (200 entities)",
    },
    Call {
        name: "system.multicall",
        label: "`system.multicall` of 10 `dict_get`",
    },
];

/// A group of a fixture PBX: `entities` entities (95% extensions, 5% queues of 10
/// members) numbered from `first`, and `calls` calls between its extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pub(crate) name: &'static str,
    pub(crate) first: u32,
    pub(crate) entities: u32,
    pub(crate) calls: u32,
}

impl Group {
    pub(crate) fn queues(self) -> u32 {
        self.entities / 20
    }
    pub(crate) fn extensions(self) -> u32 {
        self.entities - self.queues()
    }
    pub(crate) fn user(self) -> String {
        self.first.to_string()
    }
    pub(crate) fn authorization(self) -> String {
        let credentials = format!("{}:{PASSWORD}", self.user());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    }
}

pub(crate) const BENCH: Group = Group {
    name: "Bench",
    first: 1000,
    entities: 200,
    calls: 50,
};
pub(crate) const SMALL: Group = Group {
    name: "Small",
    first: 20_000,
    entities: 100,
    calls: 10,
};
pub(crate) const MEDIUM: Group = Group {
    name: "Medium",
    first: 30_000,
    entities: 1_000,
    calls: 100,
};
pub(crate) const LARGE: Group = Group {
    name: "Large",
    first: 100_000,
    entities: 10_000,
    calls: 1_000,
};

/// Every group's user stores the `dict_get` key, and places its group's calls.
pub(crate) fn set_up(addr: SocketAddr, group: Group) -> Result<()> {
    let auth = group.authorization();
    let mut client = KeepAlive::new(addr);
    expect_ok(
        rpc(&mut client, &auth, &method_call("dict_set", &[KEY, VALUE]))?,
        "dict_set",
    )?;
    for i in 0..group.calls {
        let from = (group.first + 2 * i).to_string();
        let to = (group.first + 2 * i + 1).to_string();
        expect_ok(
            rpc(&mut client, &auth, &method_call("sim.call", &[&from, &to]))?,
            "sim.call",
        )?;
    }
    Ok(())
}

pub(crate) fn expect_ok(answer: Vec<u8>, what: &str) -> Result<()> {
    if crate::load::is_success(hyper::StatusCode::OK, &answer) {
        Ok(())
    } else {
        bail!("{what} failed: {}", String::from_utf8_lossy(&answer))
    }
}

/// The request of a peer-table row.
pub(crate) fn request_body(call: &str) -> String {
    match call {
        "dict_get" => method_call("dict_get", &[KEY]),
        "system.multicall" => {
            let one = format!(
                "<value><struct><member><name>methodName</name><value><string>dict_get</string></value></member><member><name>params</name><value><array><data><value><string>{KEY}</string></value></data></array></value></member></struct></value>"
            );
            format!(
                "<?xml version=\"1.0\"?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>{}</data></array></value></param></params></methodCall>",
                one.repeat(10)
            )
        }
        other => method_call(other, &[]),
    }
}

/// A methodCall with string parameters (as Python's xmlrpc.client writes it).
pub(crate) fn method_call(name: &str, params: &[&str]) -> String {
    let mut xml =
        format!("<?xml version='1.0'?>\n<methodCall>\n<methodName>{name}</methodName>\n<params>\n");
    for p in params {
        let escaped = p
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let _ = write!(
            xml,
            "<param>\n<value><string>{escaped}</string></value>\n</param>\n"
        );
    }
    xml.push_str("</params>\n</methodCall>\n");
    xml
}

/// A request to `/RPC2` as `authorization`'s user, for set-up and capture: the body
/// of a 200.
pub(crate) fn rpc(client: &mut KeepAlive, authorization: &str, body: &str) -> Result<Vec<u8>> {
    let (status, answer) = client.post("/RPC2", Some(authorization), body.as_bytes())?;
    if status != 200 {
        bail!(
            "HTTP {status} from switchboard: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    Ok(answer)
}

/// A PBX configuration holding `groups` (the large one places 1,000 calls,
/// beyond the default bound on live calls per group).
pub(crate) fn pbx_toml(groups: &[Group]) -> String {
    let mut toml = String::from(
        "# Written by `cargo xtask bench-server`.\n# The fixture's users log in with a known password.\nallow_plain_passwords = true\ntime_zone = \"UTC\"\nsimulation = { max_live_calls = 100000 }\n\n[storage]\nmax_keys = 10000\n",
    );
    for g in groups {
        let _ = writeln!(toml, "\n[[group]]\nname = \"{}\"", g.name);
        for i in 0..g.extensions() {
            let number = g.first + i;
            let _ = writeln!(
                toml,
                "[[group.extension]]\nnumber = \"{number}\"\nname = \"{} user {i} & Söhne\"\nphone = \"+1604555{number:04}\"\nemail = \"user{i}@{}.example\"\nvoicemail = {}",
                g.name,
                g.name.to_lowercase(),
                i % 2 == 0
            );
            if i == 0 {
                let _ = writeln!(toml, "password = \"{PASSWORD}\"");
            }
        }
        for q in 0..g.queues() {
            let members: Vec<String> = (0..10)
                .map(|m| format!("\"{}\"", g.first + (q * 10 + m) % g.extensions()))
                .collect();
            let _ = writeln!(
                toml,
                "[[group.queue]]\nnumber = \"{}\"\nname = \"{} queue {q}\"\nmembers = [{}]",
                g.first + g.extensions() + q,
                g.name,
                members.join(", ")
            );
        }
    }
    toml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_credentials_are_the_ones_the_dxr_peer_expects() {
        let dxr = include_str!("../../../fixtures/bench/peers/src/bin/dxr-server.rs");
        let authorization = BENCH.authorization();
        assert_eq!(authorization, "Basic MTAwMDpiZW5jaA==");
        assert!(dxr.contains(&format!("const AUTH: &str = \"{authorization}\";")));
    }
}
