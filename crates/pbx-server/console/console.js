// The Switchboard operator console. Plain JavaScript, no framework, no build.
//
// Live state comes from GET /events (a snapshot, then events as upserts);
// actions go to POST /jsonrpc with the session's CSRF token. Everything the
// PBX says is put on the page as text (textContent, Element.append with
// strings): never as markup.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  const state = {
    user: null,
    csrf: null,
    source: null,
    calls: new Map(), // call id -> record
    seen: new Map(), // call id -> {duration, at}: for running timers
    parkedAt: new Map(), // call id -> ms when it was seen parked
    entities: new Map(), // "type:id" -> record
    parking: null, // [parking_extension, slots, {slot: callid}]
    favorites: [],
    draft: null, // the favorites being edited, or null
    selected: null, // a call id
    drag: null,
    reconnecting: false,
    catchUpTimer: null,
  };

  // ---------------------------------------------------------------- DOM helpers

  // Builds an element; strings among the children become text nodes.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'dataset') {
        for (const [name, text] of Object.entries(value)) {
          if (text !== undefined && text !== null) node.dataset[name] = text;
        }
      }
      else if (key.startsWith('aria-') || key === 'role') node.setAttribute(key, String(value));
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node[key] = value;
    }
    for (const child of children) {
      if (child !== undefined && child !== null) node.append(child);
    }
    return node;
  }

  function say(text, fault) {
    const status = $('status');
    status.textContent = text;
    status.classList.toggle('fault', Boolean(fault));
  }

  function seconds(total) {
    total = Math.max(0, Math.floor(total));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
  }

  // A running timer: `base` seconds at `at` (ms), ticking.
  function timer(base, at) {
    const node = el('span', { class: 'timer', dataset: { base: String(base), at: String(at) } });
    node.textContent = seconds(base + (Date.now() - at) / 1000);
    return node;
  }

  function tick() {
    const now = Date.now();
    for (const node of document.querySelectorAll('.timer')) {
      const text = seconds(Number(node.dataset.base) + (now - Number(node.dataset.at)) / 1000);
      if (node.textContent !== text) node.textContent = text;
    }
  }

  // Re-rendering replaces nodes: keep the keyboard focus on the same thing.
  function keepingFocus(render) {
    const key = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.focus : undefined;
    render();
    if (key) {
      const again = document.querySelector(`[data-focus="${CSS.escape(key)}"]`);
      if (again) again.focus();
    }
  }

  // ---------------------------------------------------------------- the model

  const entityKey = (type, id) => `${type}:${id}`;
  const partyIs = (party, entity) =>
    party && party.id !== 0 && party.type === entity.type && party.id === entity.id;

  function partyLabel(party) {
    if (!party) return '';
    if (party.name && party.number && party.name !== party.number) {
      return `${party.name} (${party.number})`;
    }
    return party.name || party.number || 'unknown';
  }

  function callTimer(call) {
    const seen = state.seen.get(call.id);
    return seen ? timer(seen.duration, seen.at) : timer(call.duration, Date.now());
  }

  function putCall(call) {
    state.calls.set(call.id, call);
    state.seen.set(call.id, { duration: call.duration, at: Date.now() });
    if (call.state === 'parked') {
      if (!state.parkedAt.has(call.id)) state.parkedAt.set(call.id, Date.now());
    } else {
      state.parkedAt.delete(call.id);
    }
  }

  function endCall(call) {
    state.calls.delete(call.id);
    state.seen.delete(call.id);
    state.parkedAt.delete(call.id);
    if (state.selected === call.id) state.selected = null;
  }

  // What an entity is doing now: the strongest of its calls, else its presence.
  const STATES = {
    online: { label: 'online', icon: '●' },
    offline: { label: 'offline', icon: '○' },
    ringing: { label: 'ringing', icon: '☏' },
    oncall: { label: 'on a call', icon: '☎' },
    onhold: { label: 'on hold', icon: '‖' },
  };

  function activity(entity) {
    let best = null;
    const rank = { ringing: 1, onhold: 2, oncall: 3 };
    for (const call of state.calls.values()) {
      const side = partyIs(call.to, entity) ? 'to' : partyIs(call.from, entity) ? 'from' : null;
      if (!side) continue;
      let what = null;
      if (call.state === 'ringing' || call.state === 'setup') what = 'ringing';
      else if (call.state === 'connected') what = 'oncall';
      else if (call.state === 'onhold') what = 'onhold';
      if (!what) continue;
      if (!best || rank[what] > rank[best.what]) {
        best = { what, call, other: side === 'to' ? call.from : call.to };
      }
    }
    if (best) return best;
    return { what: entity.state === 'online' ? 'online' : 'offline' };
  }

  function favoriteList() {
    return state.draft || state.favorites;
  }

  // ---------------------------------------------------------------- rendering

  function render() {
    keepingFocus(() => {
      renderFavorites();
      renderCalls();
      renderParking();
      renderSelection();
    });
  }

  function renderFavorites() {
    const list = [...favoriteList()].sort((a, b) => a.slot - b.slot);
    const editing = Boolean(state.draft);
    const grid = $('favorites');
    grid.classList.toggle('editing', editing);
    const bySlot = new Map(list.map((f) => [f.slot, f]));
    const last = list.length ? list[list.length - 1].slot : 0;
    const nodes = [];
    for (let slot = 1; slot <= last + (editing ? 1 : 0); slot++) {
      const fav = bySlot.get(slot);
      nodes.push(fav ? tile(fav, editing) : emptySlot(slot));
    }
    grid.replaceChildren(...nodes);
    $('no-favorites').hidden = list.length > 0 || editing;
    if (editing) renderAddChoices();
  }

  function emptySlot(slot) {
    return el('li', { class: 'tile empty-slot', dataset: { slot: String(slot) } },
      el('span', { class: 'slot-number' }, `slot ${slot}`));
  }

  function tile(fav, editing) {
    const entity = state.entities.get(entityKey(fav.type, fav.id));
    const name = entity ? entity.callerid.name || entity.abbreviated : `${fav.type} ${fav.id}`;
    const number = entity ? entity.abbreviated : '';
    const doing = entity ? activity(entity) : { what: 'offline' };
    const look = STATES[doing.what];
    const node = el('li', {
      class: `tile state-${doing.what}${fav.size === 'double' ? ' double' : ''}`,
      dataset: { slot: String(fav.slot), number, drop: 'transfer' },
      'aria-label': `${name}, ${number}, ${look.label}`,
    },
    el('span', { class: 'slot-number' }, `slot ${fav.slot}`),
    el('span', { class: 'tile-name' }, name),
    el('span', { class: 'tile-number' }, number),
    el('span', { class: 'tile-state' },
      el('span', { class: 'icon', 'aria-hidden': 'true' }, look.icon), ' ', look.label));
    if (doing.call) {
      node.append(el('span', { class: 'tile-call' },
        el('span', { class: 'tile-other' }, partyLabel(doing.other)), ' ', callTimer(doing.call)));
    }
    if (editing) {
      node.append(tileEditButtons(fav, name));
    } else if (number) {
      node.append(el('button', {
        type: 'button',
        class: 'tile-action',
        dataset: { focus: `tile-transfer-${fav.slot}` },
        disabled: !state.selected,
        onclick: () => transferSelected(number),
      }, `Transfer here`));
    }
    return node;
  }

  function tileEditButtons(fav, name) {
    const move = (delta) => () => {
      const target = fav.slot + delta;
      if (target < 1) return;
      const other = state.draft.find((f) => f.slot === target);
      if (other) other.slot = fav.slot;
      fav.slot = target;
      say(`${name} moved to slot ${target}.`);
      render();
    };
    return el('span', { class: 'tile-edit' },
      el('button', { type: 'button', dataset: { focus: `earlier-${fav.type}-${fav.id}` },
        'aria-label': `Move ${name} one slot earlier`, disabled: fav.slot <= 1, onclick: move(-1) }, '◀'),
      el('button', { type: 'button', dataset: { focus: `later-${fav.type}-${fav.id}` },
        'aria-label': `Move ${name} one slot later`, onclick: move(1) }, '▶'),
      el('button', { type: 'button', dataset: { focus: `resize-${fav.type}-${fav.id}` },
        onclick: () => {
          fav.size = fav.size === 'double' ? 'single' : 'double';
          say(`${name} is now ${fav.size}.`);
          render();
        } }, fav.size === 'double' ? 'Make single' : 'Make double'),
      el('button', { type: 'button', class: 'danger', dataset: { focus: `remove-${fav.type}-${fav.id}` },
        'aria-label': `Remove ${name}`,
        onclick: () => {
          state.draft = state.draft.filter((f) => f !== fav);
          say(`${name} removed from the layout.`);
          render();
        } }, 'Remove'));
  }

  function renderAddChoices() {
    const select = $('add-entity');
    const chosen = select.value;
    const taken = new Set(state.draft.map((f) => entityKey(f.type, f.id)));
    const options = [...state.entities.values()]
      .filter((e) => !taken.has(entityKey(e.type, e.id)))
      .sort((a, b) => a.abbreviated.localeCompare(b.abbreviated, undefined, { numeric: true }))
      .map((e) => el('option', { value: entityKey(e.type, e.id) },
        `${e.abbreviated} ${e.callerid.name} (${e.type})`));
    select.replaceChildren(...options);
    if (chosen) select.value = chosen;
  }

  // Queue member records are shown under the queue's own record.
  function groupedCalls() {
    const calls = [...state.calls.values()].sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));
    const queues = calls.filter((c) => c.qcall === 1 && c.to.type === 'queue');
    const members = new Map(queues.map((q) => [q.id, []]));
    const top = [];
    for (const call of calls) {
      if (call.qcall === 1 && call.to.type !== 'queue') {
        const parent = queues.find((q) => q.from.number === call.from.number);
        if (parent) {
          members.get(parent.id).push(call);
          continue;
        }
      }
      top.push(call);
    }
    const rows = [];
    for (const call of top) {
      rows.push({ call, member: false });
      for (const member of members.get(call.id) || []) rows.push({ call: member, member: true });
    }
    return rows;
  }

  function selectCall(id) {
    state.selected = id;
    render();
  }

  function callRow({ call, member }) {
    const selected = state.selected === call.id;
    const row = el('tr', {
      class: `call state-${call.state}${member ? ' member' : ''}${selected ? ' selected' : ''}`,
      dataset: { call: call.id, focus: `call-${call.id}`, drag: call.id },
      tabIndex: 0,
      'aria-selected': String(selected),
      'aria-label': `Call ${call.id} from ${partyLabel(call.from)} to ${partyLabel(call.to)}, ${call.state}${selected ? ', selected' : ''}`,
      onkeydown: (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          selectCall(call.id);
        }
      },
      onclick: () => selectCall(call.id),
    },
    el('td', { class: 'from' }, member ? el('span', { class: 'member-mark', 'aria-hidden': 'true' }, '↳ ') : null,
      partyLabel(call.from)),
    el('td', { class: 'to' }, partyLabel(call.to)),
    el('td', { class: 'state' }, call.state),
    el('td', { class: 'via' }, call.via || '—'),
    el('td', { class: 'duration' }, callTimer(call)));
    return row;
  }

  function renderCalls() {
    const rows = groupedCalls().map(callRow);
    $('calls-body').replaceChildren(...rows);
    $('no-calls').hidden = rows.length > 0;
  }

  function dialNumber(first, slot) {
    if (/^\d+$/.test(first)) {
      const n = BigInt(first) + BigInt(slot - 1);
      return n.toString().padStart(first.length, '0');
    }
    return `${first}+${slot - 1}`;
  }

  function renderParking() {
    const body = $('parking-body');
    const select = $('park-slot');
    if (!state.parking) {
      body.replaceChildren();
      return;
    }
    const [first, slots, parked] = state.parking;
    const rows = [];
    const free = [];
    for (let slot = 1; slot <= slots; slot++) {
      const id = parked[String(slot)];
      const call = id !== undefined ? state.calls.get(id) : undefined;
      if (id === undefined) free.push(slot);
      const selected = id !== undefined && state.selected === id;
      const row = el('tr', {
        class: `${id !== undefined ? 'taken' : 'free'}${selected ? ' selected' : ''}`,
        dataset: { slot: String(slot), drop: 'park', focus: `slot-${slot}`, drag: id },
        tabIndex: id !== undefined ? 0 : undefined,
        'aria-selected': id !== undefined ? String(selected) : undefined,
        onclick: id !== undefined ? () => selectCall(id) : undefined,
        onkeydown: id !== undefined ? (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            selectCall(id);
          }
        } : undefined,
      },
      el('td', {}, String(slot)),
      el('td', {}, dialNumber(first, slot)),
      el('td', { class: 'parked-caller' }, id === undefined ? 'free' : call ? partyLabel(call.from) : `call ${id}`),
      el('td', {}, id === undefined ? '' : timer(0, state.parkedAt.get(id) || Date.now())));
      rows.push(row);
    }
    body.replaceChildren(...rows);
    const current = select.value;
    select.replaceChildren(el('option', { value: '' }, 'lowest free slot'),
      ...free.map((slot) => el('option', { value: String(slot) }, `slot ${slot} (${dialNumber(first, slot)})`)));
    if (free.includes(Number(current))) select.value = current;
  }

  function renderSelection() {
    const call = state.selected ? state.calls.get(state.selected) : null;
    if (state.selected && !call) state.selected = null;
    $('selected-call').textContent = call
      ? `Call ${call.id}: ${partyLabel(call.from)} → ${partyLabel(call.to)}, ${call.state}`
      : 'No call selected: choose one in the calls list or the parking lot.';
    for (const id of ['transfer', 'park', 'drop']) $(id).disabled = !call;
  }

  // ---------------------------------------------------------------- live events

  function connection(what) {
    const texts = {
      connecting: 'Connecting…',
      live: 'Live',
      reconnecting: 'Connection lost: reconnecting…',
      catchingup: 'Catching up…',
      closed: 'Not connected',
    };
    $('connection').dataset.state = what;
    $('connection-text').textContent = texts[what];
  }

  function caughtUp() {
    clearTimeout(state.catchUpTimer);
    state.catchUpTimer = null;
    connection('live');
  }

  function applySnapshot(data) {
    state.calls.clear();
    state.seen.clear();
    const parked = new Map(state.parkedAt);
    state.parkedAt.clear();
    for (const call of data.calls) {
      putCall(call);
      if (parked.has(call.id)) state.parkedAt.set(call.id, parked.get(call.id));
    }
    state.entities.clear();
    for (const entity of data.extensions) state.entities.set(entityKey(entity.type, entity.id), entity);
    state.parking = data.parking;
    state.favorites = data.favorites;
  }

  function listen() {
    if (state.source) state.source.close();
    connection('connecting');
    const source = new EventSource('/events');
    state.source = source;
    const handle = (apply) => (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        say('The server sent something unreadable; reloading the page may help.', true);
        return;
      }
      apply(data);
      caughtUp();
      render();
    };
    source.addEventListener('snapshot', handle(applySnapshot));
    source.addEventListener('call.created', handle(putCall));
    source.addEventListener('call.updated', handle(putCall));
    source.addEventListener('call.ended', handle(endCall));
    source.addEventListener('entity.updated', handle((e) => state.entities.set(entityKey(e.type, e.id), e)));
    source.addEventListener('parking.updated', handle((p) => { state.parking = p; }));
    source.addEventListener('favorites.updated', handle((f) => { state.favorites = f; }));
    source.onopen = () => {
      if (state.reconnecting) {
        // Missed events, if any, follow at once; none may follow.
        state.reconnecting = false;
        connection('catchingup');
        clearTimeout(state.catchUpTimer);
        state.catchUpTimer = setTimeout(caughtUp, 1500);
      }
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CONNECTING) {
        state.reconnecting = true;
        connection('reconnecting');
      } else {
        connection('closed');
        // Refused for good: most likely the session ended.
        checkSession();
      }
    };
  }

  // ---------------------------------------------------------------- actions

  class Fault extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }

  let nextId = 1;
  async function rpc(method, params) {
    let response;
    try {
      response = await fetch('/jsonrpc', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': state.csrf || '' },
        body: JSON.stringify({ jsonrpc: '2.0', method, params, id: nextId++ }),
      });
    } catch (error) {
      throw new Fault(0, 'the server cannot be reached');
    }
    if (response.status === 401) {
      checkSession();
      throw new Fault(0, 'you are signed out');
    }
    if (!response.ok) {
      throw new Fault(0, `the server answered ${response.status} ${(await response.text()).trim()}`);
    }
    const answer = await response.json();
    if (answer.error) throw new Fault(answer.error.code, answer.error.message);
    return answer.result;
  }

  const FAULTS = {
    '-1': 'not found',
    '-2': 'not allowed',
    '-3': 'not possible in the call\'s state, or the slot is taken',
    '-4': 'a limit was reached (no free slot?)',
    '-32602': 'invalid input',
  };

  function failed(what, error) {
    const meaning = FAULTS[String(error.code)];
    const detail = error.message || meaning || 'unknown error';
    const code = error.code ? ` (fault ${error.code}${meaning && meaning !== detail ? `: ${meaning}` : ''})` : '';
    say(`${what} failed: ${detail}${code}.`, true);
  }

  async function act(what, method, params, done) {
    say(`${what}…`);
    try {
      const result = await rpc(method, params);
      say(done(result));
      return true;
    } catch (error) {
      failed(what, error);
      return false;
    }
  }

  function transfer(callId, destination) {
    destination = destination.trim();
    if (!destination) {
      say('Transfer: type a number to transfer to.', true);
      return;
    }
    act(`Transfer of call ${callId} to ${destination}`, 'transfer', [callId, destination],
      () => `Call ${callId} transferred to ${destination}.`);
  }

  function transferSelected(destination) {
    if (!state.selected) {
      say('Select a call first.', true);
      return;
    }
    transfer(state.selected, destination);
  }

  function park(callId, slot) {
    const params = slot ? [callId, slot] : [callId];
    act(`Parking call ${callId}`, 'park', params, (taken) => `Call ${callId} parked on slot ${taken}.`);
  }

  // ---------------------------------------------------------------- drag and drop
  //
  // Pointer events rather than HTML5 drag and drop: the same code serves a
  // mouse, a pen and a touch screen.

  function dropTarget(x, y) {
    const under = document.elementFromPoint(x, y);
    return under ? under.closest('[data-drop]') : null;
  }

  function onPointerDown(event) {
    if (event.button !== 0) return;
    const source = event.target.closest('[data-drag]');
    if (!source || !source.dataset.drag || event.target.closest('button')) return;
    state.drag = { id: source.dataset.drag, x: event.clientX, y: event.clientY, ghost: null, over: null };
  }

  function onPointerMove(event) {
    const drag = state.drag;
    if (!drag) return;
    if (!drag.ghost) {
      if (Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < 6) return;
      const call = state.calls.get(drag.id);
      drag.ghost = el('div', { class: 'ghost', 'aria-hidden': 'true' },
        call ? `${partyLabel(call.from)} → …` : `call ${drag.id}`);
      document.body.append(drag.ghost);
      document.body.classList.add('dragging');
    }
    drag.ghost.style.left = `${event.clientX + 12}px`;
    drag.ghost.style.top = `${event.clientY + 12}px`;
    const over = dropTarget(event.clientX, event.clientY);
    if (over !== drag.over) {
      if (drag.over) drag.over.classList.remove('drop-here');
      if (over) over.classList.add('drop-here');
      drag.over = over;
    }
  }

  function onPointerUp(event) {
    const drag = state.drag;
    state.drag = null;
    if (!drag || !drag.ghost) return;
    drag.ghost.remove();
    document.body.classList.remove('dragging');
    if (drag.over) drag.over.classList.remove('drop-here');
    // A click follows the pointerup of a drag: it must not toggle the selection.
    const swallow = (e) => e.stopPropagation();
    window.addEventListener('click', swallow, { capture: true, once: true });
    setTimeout(() => window.removeEventListener('click', swallow, { capture: true }), 0);
    const target = dropTarget(event.clientX, event.clientY);
    if (!target) return;
    if (target.dataset.drop === 'transfer' && target.dataset.number) {
      transfer(drag.id, target.dataset.number);
    } else if (target.dataset.drop === 'park') {
      park(drag.id, Number(target.dataset.slot));
    }
  }

  // ---------------------------------------------------------------- layout editing

  function startEditing() {
    state.draft = state.favorites.map((f) => ({ ...f }));
    $('layout-editor').hidden = false;
    $('edit-layout').hidden = true;
    say('Editing the layout: add, move, resize or remove tiles, then save.');
    render();
  }

  function stopEditing() {
    state.draft = null;
    $('layout-editor').hidden = true;
    $('edit-layout').hidden = false;
    render();
  }

  function addTile() {
    const choice = $('add-entity').value;
    if (!choice) {
      say('Nothing left to add.', true);
      return;
    }
    const [type, id] = choice.split(':');
    const used = new Set(state.draft.map((f) => f.slot));
    let slot = Number($('add-slot').value);
    if (!Number.isInteger(slot) || slot < 1) {
      slot = 1;
      while (used.has(slot)) slot++;
    } else if (used.has(slot)) {
      say(`Slot ${slot} is taken: choose another or move that tile first.`, true);
      return;
    }
    state.draft.push({ id: Number(id), type, slot, size: $('add-size').value });
    $('add-slot').value = '';
    const entity = state.entities.get(choice);
    say(`${entity ? entity.callerid.name : choice} added at slot ${slot}.`);
    render();
  }

  async function saveLayout() {
    const list = state.draft.map(({ id, type, slot, size }) => ({ id, type, slot, size }));
    const saved = await act('Saving the layout', 'set_favorites', [list], () => 'Layout saved.');
    if (saved) {
      state.favorites = list;
      stopEditing();
    }
  }

  // ---------------------------------------------------------------- session

  function show(signedIn) {
    $('login-view').hidden = signedIn;
    $('console-view').hidden = !signedIn;
    $('logout').hidden = !signedIn;
    $('whoami').textContent = signedIn ? `Signed in as ${state.user}` : '';
    if (!signedIn) {
      if (state.source) state.source.close();
      state.source = null;
      connection('closed');
      $('login-user').focus();
    }
  }

  function signedIn(info) {
    state.user = info.user;
    state.csrf = info.csrf_token;
    show(true);
    listen();
  }

  async function checkSession() {
    try {
      const response = await fetch('/console/session', { credentials: 'same-origin' });
      if (response.ok) {
        const info = await response.json();
        if (!state.source || state.source.readyState === EventSource.CLOSED) signedIn(info);
        return;
      }
    } catch (error) {
      connection('closed');
      say('The server cannot be reached.', true);
      return;
    }
    state.user = null;
    state.csrf = null;
    show(false);
  }

  async function login(event) {
    event.preventDefault();
    const form = $('login-form');
    const error = $('login-error');
    error.textContent = '';
    let response;
    try {
      response = await fetch('/console/login', {
        method: 'POST',
        credentials: 'same-origin',
        body: new URLSearchParams(new FormData(form)),
      });
    } catch (e) {
      error.textContent = 'The server cannot be reached.';
      return;
    }
    if (response.ok) {
      $('login-password').value = '';
      signedIn(await response.json());
      say(`Signed in as ${state.user}.`);
      return;
    }
    const retry = response.headers.get('Retry-After');
    error.textContent = {
      401: 'Wrong extension or password.',
      403: 'Sign-in refused: it did not come from this page.',
      429: `Too many failed sign-ins: try again in ${retry || 'a few'} seconds.`,
      503: 'The server is busy: try again in a moment.',
    }[response.status] || `Sign-in failed (${response.status}).`;
  }

  async function logout() {
    try {
      await fetch('/console/logout', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'X-CSRF-Token': state.csrf || '' },
      });
    } catch (e) {
      // Signed out here either way; the server's session expires on its own.
    }
    state.user = null;
    state.csrf = null;
    state.selected = null;
    stopEditing();
    show(false);
    say('Signed out.');
  }

  // ---------------------------------------------------------------- theme

  function applyTheme(theme) {
    document.documentElement.dataset.theme = theme;
    const dark = theme === 'dark';
    $('theme').setAttribute('aria-pressed', String(dark));
    $('theme').textContent = dark ? 'Light theme' : 'Dark theme';
  }

  function start() {
    let theme = null;
    try {
      theme = localStorage.getItem('switchboard-theme');
    } catch (e) {
      theme = null;
    }
    applyTheme(theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
    $('theme').addEventListener('click', () => {
      const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
      applyTheme(next);
      try {
        localStorage.setItem('switchboard-theme', next);
      } catch (e) {
        // Not kept: fine.
      }
    });
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('transfer-form').addEventListener('submit', (event) => {
      event.preventDefault();
      transferSelected($('transfer-to').value);
    });
    $('park-form').addEventListener('submit', (event) => {
      event.preventDefault();
      if (!state.selected) {
        say('Select a call first.', true);
        return;
      }
      park(state.selected, Number($('park-slot').value) || null);
    });
    $('drop').addEventListener('click', () => {
      if (!state.selected) return;
      const id = state.selected;
      act(`Dropping call ${id}`, 'drop', [id], () => `Call ${id} dropped.`);
    });
    $('edit-layout').addEventListener('click', startEditing);
    $('cancel-layout').addEventListener('click', () => {
      stopEditing();
      say('Layout changes discarded.');
    });
    $('add-tile').addEventListener('click', addTile);
    $('save-layout').addEventListener('click', saveLayout);
    document.addEventListener('pointerdown', onPointerDown);
    document.addEventListener('pointermove', onPointerMove);
    document.addEventListener('pointerup', onPointerUp);
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && state.selected) {
        state.selected = null;
        render();
      }
    });
    setInterval(tick, 1000);
    render();
    checkSession();
  }

  start();
})();
