//! The checks, one async function each, and their registry in SPEC.md order.

mod auth;
mod calls;
mod drop_call;
mod events;
mod extensions;
mod favorites;
mod parking;
mod queue;
mod simulator;
mod storage;
mod transfer;

use super::runner::Check;

/// One registry entry: name, whether it needs a simulator, how many fresh
/// backends it compares (default 1), function, description.
macro_rules! check {
    ($name:literal, sim: $sim:literal, $f:path, $description:literal) => {
        check!($name, sim: $sim, backends: 1, $f, $description)
    };
    ($name:literal, sim: $sim:literal, backends: $n:literal, $f:path, $description:literal) => {
        Check {
            name: $name,
            description: $description,
            needs_simulator: $sim,
            backends: $n,
            run: |ctx| Box::pin($f(ctx)),
        }
    };
}

/// Every check, in the order a report lists them.
pub(super) static CHECKS: &[Check] = &[
    check!("auth.authenticate", sim: false, auth::authenticate,
        "right password gives the user with their extension and group; wrong password, unknown user, extension without password give None"),
    check!("extensions.visibility", sim: false, extensions::visibility,
        "get_extensions lists exactly the caller's group's extensions, queues and attendants, each (type, id) once and unique within the group"),
    check!("extensions.records", sim: false, extensions::records,
        "extension records carry callerid, voicemail, email and configured presence; queue and attendant presence is derived"),
    check!("extensions.queue_presence", sim: true, extensions::queue_presence,
        "a queue is online exactly while at least one member is online and not on a call"),
    check!("calls.visibility", sim: true, calls::visibility,
        "get_calls lists the group's calls for every user of the group and nothing of other groups; outside parties have id 0 and type unknown"),
    check!("calls.inbound_via", sim: true, calls::inbound_via,
        "an inbound call carries the connection named in via, or the group's first connection; an unknown or foreign connection is NotFound"),
    check!("calls.internal", sim: true, calls::internal,
        "an internal call has an empty via, entity parties on both sides and one record"),
    check!("calls.states", sim: true, calls::states,
        "a call goes ringing (or setup) → connected → onhold → connected and is gone after hangup"),
    check!("calls.state_conflicts", sim: true, calls::state_conflicts,
        "answer, hold and resume in a state that does not allow them are Conflict; on unknown calls NotFound"),
    check!("calls.hangup", sim: true, calls::hangup,
        "hangup ends a call in any state and only that call; hanging up again is NotFound"),
    check!("calls.duration", sim: true, calls::duration,
        "duration starts near 0 and never decreases, across answer, hold, resume and transfer"),
    check!("calls.ids_per_group", sim: true, backends: 3, calls::ids_per_group,
        "the call ids a group sees are the same whatever another group does meanwhile: they reveal nothing of its calls"),
    check!("calls.voicemail", sim: true, calls::voicemail,
        "an offline destination with voicemail gets a vm party, vm-<number> reaches the box, an offline destination without voicemail is Conflict"),
    check!("queue.fan_out", sim: true, queue::fan_out,
        "a queue call is an incoming record plus one ringing record per online idle member, all qcall 1"),
    check!("queue.answer_by_member", sim: true, queue::answer_by_member,
        "when a named member answers, the other records end and the answered one goes on connected"),
    check!("queue.answer_default", sim: true, queue::answer_default,
        "answer without a member: the first ringing member answers"),
    check!("queue.drop_incoming", sim: true, queue::drop_incoming,
        "dropping the incoming record ends all records of the queue call"),
    check!("transfer.own_extension_released", sim: true, transfer::own_extension_released,
        "the requesting user's own extension is released when it is a party; the record keeps its id and the destination rings"),
    check!("transfer.to_party_released", sim: true, transfer::to_party_released,
        "when the user is no party, the `to` party is released and replaced by the destination"),
    check!("transfer.to_voicemail", sim: true, transfer::to_voicemail,
        "transfer to vm-<number> goes on with a vm party; a box that does not exist is NotFound"),
    check!("transfer.to_queue", sim: true, transfer::to_queue,
        "transfer to a queue turns the call into a queue call"),
    check!("transfer.outbound", sim: true, transfer::outbound,
        "transfer to an outside number goes out through the outbound connection, shown in via"),
    check!("transfer.no_outbound_connection", sim: true, transfer::no_outbound_connection,
        "without an outbound connection, transfer to an outside number is NotFound and changes nothing"),
    check!("transfer.other_group_destination", sim: true, transfer::other_group_destination,
        "another group's number as destination is NotFound exactly like a nonexistent one"),
    check!("transfer.other_group_call", sim: true, transfer::other_group_call,
        "transferring another group's call is NotFound exactly like a nonexistent call"),
    check!("transfer.parked_call", sim: true, transfer::parked_call,
        "transferring a parked call takes it out of parking"),
    check!("drop.ends_call", sim: true, drop_call::ends_call,
        "drop ends a ringing, connected, held or parked call (freeing its slot), and only that call"),
    check!("drop.not_found", sim: true, drop_call::not_found,
        "dropping an unknown call or another group's call is the same NotFound"),
    check!("parking.info", sim: false, parking::info,
        "get_parking_info shows the group's own lot: first number, slot count, no parked calls"),
    check!("parking.lowest_free_slot", sim: true, parking::lowest_free_slot,
        "park without a slot takes the lowest free one; the call is parked and listed by slot"),
    check!("parking.explicit_slot", sim: true, parking::explicit_slot,
        "park in a named slot takes it; a taken slot is Conflict and changes nothing"),
    check!("parking.full", sim: true, parking::full,
        "park in a full lot is LimitReached and changes nothing"),
    check!("parking.slot_out_of_range", sim: true, parking::slot_out_of_range,
        "slot 0 or a slot beyond the lot is InvalidInput and changes nothing"),
    check!("parking.other_group_call", sim: true, parking::other_group_call,
        "parking another group's call is NotFound exactly like a nonexistent call"),
    check!("parking.freed_on_hangup", sim: true, parking::freed_on_hangup,
        "a parked call that ends frees its slot"),
    check!("favorites.round_trip", sim: false, favorites::round_trip,
        "set_favorites replaces the whole list; get_favorites returns it by slot"),
    check!("favorites.shared_by_group", sim: false, favorites::shared_by_group,
        "favorites are shared by the users of a group and invisible to other groups"),
    check!("favorites.invalid_slots", sim: false, favorites::invalid_slots,
        "duplicate slots or slot 0 are InvalidInput and change nothing"),
    check!("favorites.other_group_entity", sim: false, favorites::other_group_entity,
        "a favorite naming another group's entity is NotFound exactly like a nonexistent one, and changes nothing"),
    check!("storage.round_trip", sim: false, storage::round_trip,
        "dict_set/dict_get/dict_delete: overwrite, empty and Unicode values, missing key NotFound, deleting a missing key succeeds"),
    check!("storage.per_user", sim: false, storage::per_user,
        "each user has their own key space, also within one group"),
    check!("storage.set_many_atomic", sim: false, storage::set_many_atomic,
        "dict_set_many writes all entries (last of a repeated key wins) or nothing"),
    check!("storage.size_limits", sim: false, storage::size_limits,
        "keys up to max_key_bytes and values up to max_value_bytes (UTF-8 bytes) are stored; longer ones are LimitReached and write nothing"),
    check!("storage.key_quota", sim: false, storage::key_quota,
        "a user holds at most max_keys keys: beyond is LimitReached and writes nothing; overwriting at the quota succeeds"),
    check!("storage.get_all_sorted", sim: false, storage::get_all_sorted,
        "get_all returns every key of the user's with its value, sorted by key"),
    check!("storage.get_all_bounded", sim: false, storage::get_all_bounded,
        "get_all within max_bytes answers when the keys and values (UTF-8 bytes) fit, and is LimitReached when they do not"),
    check!("events.call_lifecycle", sim: true, events::call_lifecycle,
        "a call's life gives call.created (the whole record get_calls lists), call.updated (connected) and call.ended, in order, with distinct ids; no cursor starts with a reset"),
    check!("events.scoping", sim: true, events::scoping,
        "another group's subscriber gets nothing of a group's changes, and its cursor still resumes with nothing to replay"),
    check!("events.replay", sim: true, events::replay,
        "resuming after a cursor replays exactly the later events, in order, with the same ids"),
    check!("events.unknown_cursor", sim: true, events::unknown_cursor,
        "an unknown cursor is a reset, followed by live events"),
    check!("events.group", sim: true, events::group,
        "group_events (the operator's webhooks) gets exactly the events a user of the group gets, nothing of another group; an unknown group is NotFound"),
    check!("events.favorites", sim: false, events::favorites,
        "set_favorites gives one favorites.updated carrying the list as get_favorites shows it"),
    check!("sim.scoping", sim: true, simulator::scoping,
        "simulation controls on numbers or calls of another group are NotFound exactly like nonexistent ones"),
    check!("sim.register", sim: true, simulator::register,
        "register/unregister change an extension's presence, and calls to it route accordingly"),
    check!("sim.reset", sim: true, simulator::reset,
        "reset ends the group's calls and restores configured presence; storage, favorites and other groups stay"),
];
