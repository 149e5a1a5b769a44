//! A PBX vendor's own backend, outside `pbx-backend-memory`: a tiny PBX with
//! the kit fixture's two groups and no calls, whose `dict_*` and favorites
//! come from the user-data layer (`pbx-user-data`). It passes the conformance
//! kit's storage and favorites checks on its own and served through
//! `pbx_server::router` (an adapter speaks XML-RPC to the router in process),
//! and its `get_all` is bounded by the server's answer size.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{Request as HttpRequest, StatusCode};
use pbx_backend::kit::{self, Fixture, Target};
use pbx_backend::{BackendError, BackendResult, Caller, PbxBackend};
use pbx_model::{
    AdminGroupId, Call, CallId, CallerId, Entity, EntityId, EntityKind, EntityRef, Favorite,
    ParkingInfo, Presence,
};
use pbx_server::{AppState, ServerConfig};
use pbx_user_data::UserData;
use pbx_xmlrpc::{FaultCode, Request};
use xmlrpc_codec::{MethodResponse, Value, encode_method_call};

use crate::support::{basic, send};

/// The vendor's PBX: its own directory, and user data from the layer.
struct TinyPbx {
    groups: Vec<TinyGroup>,
    /// (number, password, group index, extension id) of every user.
    users: Vec<(String, String, usize, EntityId)>,
    user_data: UserData,
}

struct TinyGroup {
    id: AdminGroupId,
    entities: Vec<Entity>,
    parking: ParkingInfo,
}

impl TinyGroup {
    fn has(&self, e: EntityRef) -> bool {
        self.entities.iter().any(|x| x.entity_ref() == e)
    }
}

fn entity(kind: EntityKind, id: usize, number: &str, name: &str, online: bool) -> Entity {
    Entity {
        id: EntityId(u32::try_from(id + 1).unwrap()),
        kind,
        abbreviated: number.to_owned(),
        caller_id: CallerId {
            phone: String::new(),
            name: name.to_owned(),
        },
        voicemail: false,
        email: String::new(),
        presence: if online {
            Presence::Online
        } else {
            Presence::Offline
        },
    }
}

impl TinyPbx {
    /// The fixture's directory, ids numbered per group and kind; user data
    /// in memory within the fixture's limits.
    fn new(fixture: &Fixture) -> Self {
        let mut users = Vec::new();
        let groups = fixture
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| {
                let mut entities = Vec::new();
                for (i, e) in group.extensions.iter().enumerate() {
                    let record = entity(EntityKind::Extension, i, &e.number, &e.name, e.online);
                    if let Some(password) = &e.password {
                        users.push((e.number.clone(), password.clone(), g, record.id));
                    }
                    entities.push(record);
                }
                for (i, q) in group.queues.iter().enumerate() {
                    entities.push(entity(EntityKind::Queue, i, &q.number, &q.name, false));
                }
                for (i, a) in group.attendants.iter().enumerate() {
                    let on = a.always_active;
                    entities.push(entity(EntityKind::Attendant, i, &a.number, &a.name, on));
                }
                TinyGroup {
                    id: AdminGroupId::new(&group.name),
                    entities,
                    parking: ParkingInfo {
                        parking_extension: group.parking.first_number.clone(),
                        slots: group.parking.slots,
                        parked_calls: Default::default(),
                    },
                }
            })
            .collect();
        Self {
            groups,
            users,
            user_data: UserData::in_memory(fixture.storage),
        }
    }

    fn group(&self, caller: &Caller) -> BackendResult<&TinyGroup> {
        self.groups
            .iter()
            .find(|g| &g.id == caller.group())
            .ok_or_else(|| BackendError::permission_denied("not a user of this PBX"))
    }
}

fn no_call<T>() -> BackendResult<T> {
    Err(BackendError::not_found("no such call"))
}

#[async_trait]
impl PbxBackend for TinyPbx {
    async fn authenticate(&self, user: &str, password: &str) -> BackendResult<Option<Caller>> {
        Ok(self
            .users
            .iter()
            .find(|(number, secret, ..)| number == user && secret == password)
            .map(|(number, _, g, id)| Caller::new(number, *id, self.groups[*g].id.clone())))
    }
    async fn get_calls(&self, caller: &Caller) -> BackendResult<Vec<Call>> {
        self.group(caller).map(|_| Vec::new())
    }
    async fn get_extensions(&self, caller: &Caller) -> BackendResult<Vec<Entity>> {
        Ok(self.group(caller)?.entities.clone())
    }
    async fn get_favorites(&self, caller: &Caller) -> BackendResult<Vec<Favorite>> {
        let group = self.group(caller)?;
        Ok(self
            .user_data
            .get_favorites(&group.id, |e| group.has(e))
            .await?)
    }
    async fn set_favorites(&self, caller: &Caller, favorites: Vec<Favorite>) -> BackendResult<()> {
        let group = self.group(caller)?;
        Ok(self
            .user_data
            .set_favorites(&group.id, favorites, |e| group.has(e))
            .await?)
    }
    async fn transfer(&self, _: &Caller, _: &CallId, _: &str) -> BackendResult<()> {
        no_call()
    }
    async fn drop_call(&self, _: &Caller, _: &CallId) -> BackendResult<()> {
        no_call()
    }
    async fn get_parking_info(&self, caller: &Caller) -> BackendResult<ParkingInfo> {
        Ok(self.group(caller)?.parking.clone())
    }
    async fn park(&self, _: &Caller, _: &CallId, _: Option<u32>) -> BackendResult<u32> {
        no_call()
    }
    async fn dict_set(&self, caller: &Caller, key: &str, value: &str) -> BackendResult<()> {
        self.group(caller)?;
        Ok(self.user_data.dict_set(caller.number(), key, value).await?)
    }
    async fn dict_set_many(
        &self,
        caller: &Caller,
        entries: Vec<(String, String)>,
    ) -> BackendResult<()> {
        self.group(caller)?;
        Ok(self
            .user_data
            .dict_set_many(caller.number(), entries)
            .await?)
    }
    async fn dict_get(&self, caller: &Caller, key: &str) -> BackendResult<String> {
        self.group(caller)?;
        Ok(self.user_data.dict_get(caller.number(), key).await?)
    }
    async fn dict_delete(&self, caller: &Caller, key: &str) -> BackendResult<()> {
        self.group(caller)?;
        Ok(self.user_data.dict_delete(caller.number(), key).await?)
    }
    async fn get_all(&self, caller: &Caller, max: usize) -> BackendResult<Vec<(String, String)>> {
        self.group(caller)?;
        Ok(self.user_data.get_all(caller.number(), max).await?)
    }
}

/// The checks a backend without calls runs for its user data.
fn user_data_check(name: &str) -> bool {
    name.starts_with("storage.") || name.starts_with("favorites.")
}

fn count_user_data_checks() -> usize {
    kit::checks()
        .iter()
        .filter(|c| user_data_check(c.name))
        .count()
}

#[tokio::test]
async fn a_third_party_backend_passes_the_storage_and_favorites_checks() {
    let report = kit::run_matching(
        || async {
            let pbx = Arc::new(TinyPbx::new(&Fixture::standard()));
            Target::new(pbx, None)
        },
        user_data_check,
    )
    .await;
    report.assert_all_passed();
    assert_eq!(
        report.passed().count(),
        count_user_data_checks(),
        "{report}"
    );
}

/// The kit's view of a server: each operation an XML-RPC call through the
/// router, as the fixture's user, with faults turned back into errors.
struct OverHttp {
    router: Router,
    fixture: Fixture,
}

impl OverHttp {
    fn serving(backend: Arc<dyn PbxBackend>) -> Self {
        let config = ServerConfig::default();
        let router = pbx_server::router(AppState::new(backend, config));
        Self {
            router,
            fixture: Fixture::standard(),
        }
    }

    async fn call_as(&self, user: &str, password: &str, request: Request) -> BackendResult<Value> {
        let body = encode_method_call(&request.to_call()).map_err(BackendError::internal)?;
        let http = HttpRequest::post("/RPC2")
            .header(AUTHORIZATION, basic(user, password))
            .header(CONTENT_TYPE, "text/xml")
            .body(body.into())
            .map_err(BackendError::internal)?;
        let answer = send(&self.router, http).await;
        if answer.status != StatusCode::OK {
            return Err(BackendError::permission_denied(format!(
                "HTTP {}",
                answer.status
            )));
        }
        match answer.response() {
            MethodResponse::Success(value) => Ok(value),
            MethodResponse::Fault(fault) => Err(match FaultCode::from_code(fault.code) {
                Some(FaultCode::NotFound) => BackendError::NotFound(fault.string),
                Some(FaultCode::PermissionDenied) => BackendError::PermissionDenied(fault.string),
                Some(FaultCode::Conflict) => BackendError::Conflict(fault.string),
                Some(FaultCode::LimitReached) => BackendError::LimitReached(fault.string),
                Some(FaultCode::InvalidParams) => BackendError::InvalidInput(fault.string),
                _ => BackendError::internal(format!("fault {}: {}", fault.code, fault.string)),
            }),
        }
    }

    async fn call(&self, caller: &Caller, request: Request) -> BackendResult<Value> {
        let password = self
            .fixture
            .extension(caller.number())
            .and_then(|(_, e)| e.password.clone())
            .unwrap_or_default();
        self.call_as(caller.number(), &password, request).await
    }
}

fn wire<T>(r: Result<T, pbx_xmlrpc::ResultError>) -> BackendResult<T> {
    r.map_err(BackendError::internal)
}

fn unused<T>() -> BackendResult<T> {
    Err(BackendError::internal("not used by the user-data checks"))
}

#[async_trait]
impl PbxBackend for OverHttp {
    async fn authenticate(&self, user: &str, password: &str) -> BackendResult<Option<Caller>> {
        let Ok(value) = self.call_as(user, password, Request::GetExtensions).await else {
            return Ok(None);
        };
        let own = wire(pbx_xmlrpc::parse_extensions(&value))?
            .into_iter()
            .find(|e| e.kind == EntityKind::Extension && e.abbreviated == user);
        let group = self.fixture.extension(user).map(|(g, _)| g.name.clone());
        Ok(own
            .zip(group)
            .map(|(e, g)| Caller::new(user, e.id, AdminGroupId::new(g))))
    }
    async fn get_calls(&self, _: &Caller) -> BackendResult<Vec<Call>> {
        unused()
    }
    async fn get_extensions(&self, caller: &Caller) -> BackendResult<Vec<Entity>> {
        let value = self.call(caller, Request::GetExtensions).await?;
        wire(pbx_xmlrpc::parse_extensions(&value))
    }
    async fn get_favorites(&self, caller: &Caller) -> BackendResult<Vec<Favorite>> {
        let value = self.call(caller, Request::GetFavorites).await?;
        wire(pbx_xmlrpc::parse_favorites(&value))
    }
    async fn set_favorites(&self, caller: &Caller, favorites: Vec<Favorite>) -> BackendResult<()> {
        let value = self
            .call(caller, Request::SetFavorites { favorites })
            .await?;
        wire(pbx_xmlrpc::parse_done(&value))
    }
    async fn transfer(&self, _: &Caller, _: &CallId, _: &str) -> BackendResult<()> {
        unused()
    }
    async fn drop_call(&self, _: &Caller, _: &CallId) -> BackendResult<()> {
        unused()
    }
    async fn get_parking_info(&self, _: &Caller) -> BackendResult<ParkingInfo> {
        unused()
    }
    async fn park(&self, _: &Caller, _: &CallId, _: Option<u32>) -> BackendResult<u32> {
        unused()
    }
    async fn dict_set(&self, caller: &Caller, key: &str, value: &str) -> BackendResult<()> {
        let request = Request::DictSet {
            key: key.to_owned(),
            value: value.to_owned(),
        };
        wire(pbx_xmlrpc::parse_done(&self.call(caller, request).await?))
    }
    async fn dict_set_many(
        &self,
        caller: &Caller,
        entries: Vec<(String, String)>,
    ) -> BackendResult<()> {
        let value = self
            .call(caller, Request::DictSetMany { pairs: entries })
            .await?;
        wire(pbx_xmlrpc::parse_done(&value))
    }
    async fn dict_get(&self, caller: &Caller, key: &str) -> BackendResult<String> {
        let request = Request::DictGet {
            key: key.to_owned(),
        };
        wire(pbx_xmlrpc::parse_string(&self.call(caller, request).await?))
    }
    async fn dict_delete(&self, caller: &Caller, key: &str) -> BackendResult<()> {
        let request = Request::DictDelete {
            key: key.to_owned(),
        };
        wire(pbx_xmlrpc::parse_done(&self.call(caller, request).await?))
    }
    // The server's bound is its own (`max_response_bytes`), not one per call:
    // `storage.get_all_bounded` runs on the backend itself, above.
    async fn get_all(&self, caller: &Caller, _: usize) -> BackendResult<Vec<(String, String)>> {
        let value = self.call(caller, Request::GetAll).await?;
        wire(pbx_xmlrpc::parse_entries(&value))
    }
}

#[tokio::test]
async fn a_third_party_backend_served_by_pbx_server_passes_the_user_data_checks() {
    let report = kit::run_matching(
        || async {
            let pbx = Arc::new(TinyPbx::new(&Fixture::standard()));
            Target::new(Arc::new(OverHttp::serving(pbx)), None)
        },
        |name| user_data_check(name) && name != "storage.get_all_bounded",
    )
    .await;
    report.assert_all_passed();
    assert_eq!(
        report.passed().count(),
        count_user_data_checks() - 1,
        "{report}"
    );
}

#[tokio::test]
async fn a_third_party_backends_get_all_is_bounded_by_the_servers_answer_size() {
    let fixture = Fixture::standard();
    let pbx = Arc::new(TinyPbx::new(&fixture));
    let alice = pbx.authenticate("201", "alpha-201").await.unwrap().unwrap();
    let value = "v".repeat(fixture.storage.max_value_bytes);
    let entries = (0..8).map(|i| (format!("k{i}"), value.clone())).collect();
    pbx.dict_set_many(&alice, entries).await.unwrap();

    let max = 128 << 10;
    let mut config = ServerConfig::default();
    config.max_response_bytes = max;
    let router = pbx_server::router(AppState::new(pbx.clone(), config));
    let server = OverHttp {
        router,
        fixture: fixture.clone(),
    };
    match server.get_all(&alice, usize::MAX).await {
        Err(BackendError::LimitReached(message)) => assert!(
            message.contains(&format!("exceed {max} bytes (max_response_bytes)")),
            "{message}"
        ),
        other => panic!("512 KiB of values within a {max}-byte answer: {other:?}"),
    }
    pbx.dict_delete(&alice, "k0").await.unwrap();
    for i in 1..7 {
        pbx.dict_delete(&alice, &format!("k{i}")).await.unwrap();
    }
    let all = server.get_all(&alice, usize::MAX).await.unwrap();
    assert_eq!(all, vec![("k7".to_owned(), value)]);
}
