//! The standard fixture PBX every backend under test is loaded with.

use pbx_user_data::StorageLimits;

/// The PBX the conformance checks expect, as plain data.
///
/// A backend under test is loaded with [`Fixture::standard`] (translated into
/// whatever configuration the backend reads) before every check. Ids are the
/// backend's business: the checks find entities by number through
/// `get_extensions`, never by id.
///
/// Numbers are unique across the whole PBX. Outside numbers used by the checks
/// start with `+` and belong to no group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixture {
    /// The PBX's time zone (an IANA name). Attendants in the fixture are either
    /// always or never active, so no check depends on the clock or the zone.
    pub time_zone: String,
    /// Storage limits. The fixture sets [`StorageLimits::max_keys`] far below
    /// SPEC's default of 10,000 so that the quota check stays fast: a backend
    /// under test must be configured with exactly these limits.
    pub storage: StorageLimits,
    /// The admin groups, in configuration order.
    pub groups: Vec<Group>,
}

/// An admin group with everything in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's name (its [`AdminGroupId`](pbx_model::AdminGroupId)).
    pub name: String,
    /// Its extensions, in configuration order.
    pub extensions: Vec<Extension>,
    /// Its queues.
    pub queues: Vec<Queue>,
    /// Its attendants.
    pub attendants: Vec<Attendant>,
    /// Its parking lot.
    pub parking: ParkingLot,
    /// Its external connections, in configuration order: the first one carries
    /// inbound calls placed without a `via`.
    pub connections: Vec<Connection>,
}

/// A phone extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The number dialled to reach it (`abbreviated`).
    pub number: String,
    /// Display name (`callerid.name`).
    pub name: String,
    /// Complete phone number (`callerid.phone`).
    pub phone: String,
    /// External email address.
    pub email: String,
    /// Whether it has a voicemail box.
    pub voicemail: bool,
    /// Self-care password: extensions with one are users of the API.
    pub password: Option<String>,
    /// Whether its phone is registered in the configured state (and after a reset).
    pub online: bool,
}

/// A call queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// Its number.
    pub number: String,
    /// Display name.
    pub name: String,
    /// Member extension numbers, all of the same group, in ringing order.
    pub members: Vec<String>,
}

/// An auto-attendant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendant {
    /// Its number.
    pub number: String,
    /// Display name.
    pub name: String,
    /// `true`: active on all seven weekdays, 00:00–24:00 (always online).
    /// `false`: active on no weekday at all (always offline).
    pub always_active: bool,
}

/// A parking lot: slot `k` (1-based) is reached by dialling `first_number + k - 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkingLot {
    /// The number of slot 1 (`parking_extension`).
    pub first_number: String,
    /// How many slots it has.
    pub slots: u32,
}

/// An external connection (trunk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Its name, as shown in a call's `via`.
    pub name: String,
    /// Whether outbound calls (transfers to outside numbers) may use it.
    pub outbound: bool,
}

impl Fixture {
    /// The standard fixture PBX. Every check of the kit assumes exactly this.
    ///
    /// | group | numbers | users (password) |
    /// |---|---|---|
    /// | Alpha | extensions 201–206, queue 600 (203, 204, 206), attendants 800 (always) and 801 (never), parking 700 ×3, connections "PSTN" (outbound), "Alpha-DID" (inbound only) | 201 (`alpha-201`), 202 (`alpha-202`) |
    /// | Beta | extensions 301–303, queue 650 (302, 303), attendant 850 (always), parking 750 ×2, connection "Beta-DID" (inbound only) | 301 (`beta-301`) |
    ///
    /// Presence and voicemail in Alpha: 201 online with voicemail, 202 online,
    /// 203 online (no password), 204 offline with voicemail, 205 offline without
    /// voicemail, 206 online. In Beta: 301 online with voicemail, 302 online,
    /// 303 offline.
    pub fn standard() -> Self {
        Self {
            time_zone: "UTC".into(),
            storage: StorageLimits {
                max_key_bytes: 256,
                max_value_bytes: 65_536,
                max_keys: 50,
            },
            groups: vec![
                Group {
                    name: "Alpha".into(),
                    extensions: vec![
                        ext("201", "Alice Archer", true, Some("alpha-201"), true),
                        ext("202", "Bob Baker", false, Some("alpha-202"), true),
                        ext("203", "Carol Cole", false, None, true),
                        ext("204", "Dave Dunn", true, None, false),
                        ext("205", "Erin Evans", false, None, false),
                        ext("206", "Frank Foster", false, None, true),
                    ],
                    queues: vec![queue("600", "Alpha Sales", &["203", "204", "206"])],
                    attendants: vec![
                        attendant("800", "Alpha Welcome", true),
                        attendant("801", "Alpha Night Service", false),
                    ],
                    parking: ParkingLot {
                        first_number: "700".into(),
                        slots: 3,
                    },
                    connections: vec![
                        Connection {
                            name: "PSTN".into(),
                            outbound: true,
                        },
                        Connection {
                            name: "Alpha-DID".into(),
                            outbound: false,
                        },
                    ],
                },
                Group {
                    name: "Beta".into(),
                    extensions: vec![
                        ext("301", "Grace Green", true, Some("beta-301"), true),
                        ext("302", "Heidi Hall", false, None, true),
                        ext("303", "Ivan Irwin", false, None, false),
                    ],
                    queues: vec![queue("650", "Beta Support", &["302", "303"])],
                    attendants: vec![attendant("850", "Beta Welcome", true)],
                    parking: ParkingLot {
                        first_number: "750".into(),
                        slots: 2,
                    },
                    connections: vec![Connection {
                        name: "Beta-DID".into(),
                        outbound: false,
                    }],
                },
            ],
        }
    }

    /// The group named `name`.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The extension dialled as `number`, with its group.
    pub fn extension(&self, number: &str) -> Option<(&Group, &Extension)> {
        self.groups.iter().find_map(|g| {
            g.extensions
                .iter()
                .find(|e| e.number == number)
                .map(|e| (g, e))
        })
    }
}

fn ext(
    number: &str,
    name: &str,
    voicemail: bool,
    password: Option<&str>,
    online: bool,
) -> Extension {
    let first = name.split(' ').next().unwrap_or(name).to_lowercase();
    Extension {
        number: number.into(),
        name: name.into(),
        phone: format!("+1555010{number}"),
        email: format!("{first}@example.com"),
        voicemail,
        password: password.map(Into::into),
        online,
    }
}

fn queue(number: &str, name: &str, members: &[&str]) -> Queue {
    Queue {
        number: number.into(),
        name: name.into(),
        members: members.iter().map(|m| (*m).to_string()).collect(),
    }
}

fn attendant(number: &str, name: &str, always_active: bool) -> Attendant {
    Attendant {
        number: number.into(),
        name: name.into(),
        always_active,
    }
}
