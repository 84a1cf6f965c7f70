/* planner-loop run viewer: tables -> the episodes behind a cell -> one episode's transcript.
   Data arrive as script files (data/index.js, data/chunk-NNNN.js) so the page also works from file://.
   All recorded text is inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var PLV = window.PLV;
  var D = PLV.data;
  var app = document.getElementById("app");
  var PAGE = 100;
  var F = {};
  D.fields.forEach(function (name, i) { F[name] = i; });
  var hasCritic = D.episodes.some(function (e) { return e[F.critic] !== "none"; });

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) { return; }
        if (key === "text") { node.textContent = value; }
        else if (key === "cls") { node.className = value; }
        else if (key === "onclick") { node.addEventListener("click", value); }
        else { node.setAttribute(key, value); }
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) { continue; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }
  function tag(value, cls) { return el("span", {cls: "tag " + (cls || value), text: value}); }
  function pad(n) { return ("000" + n).slice(-4); }

  /* ---------- routing ---------- */
  function parseHash() {
    var hash = location.hash.replace(/^#\/?/, "");
    var query = {};
    var q = hash.indexOf("?");
    if (q >= 0) {
      hash.slice(q + 1).split("&").forEach(function (part) {
        if (!part) { return; }
        var kv = part.split("=");
        query[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1] || "");
      });
      hash = hash.slice(0, q);
    }
    return {parts: hash.split("/").filter(Boolean), query: query};
  }
  function go(hash) { if (location.hash === hash) { route(); } else { location.hash = hash; } }
  function queryString(query) {
    var keys = Object.keys(query).filter(function (k) { return query[k] !== "" && query[k] !== undefined; });
    return keys.length ? "?" + keys.map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(query[k]); }).join("&") : "";
  }
  function route() {
    var r = parseHash();
    window.scrollTo(0, 0);
    app.textContent = "";
    var view = r.parts[0] || "tables";
    if (view === "episodes") { renderEpisodes(r.query); }
    else if (view === "episode") { renderEpisode(parseInt(r.parts[1], 10), r.parts[2] ? parseInt(r.parts[2], 10) : null); }
    else if (view === "cell") { openCell(+r.parts[1], +r.parts[2], +r.parts[3]); }
    else { renderTables(); }
    document.body.setAttribute("data-view", view);
  }

  /* ---------- tables ---------- */
  function columnOrder(columns) {
    // a published column sits right after the column it is published for, so ours and theirs stay side by side
    var names = columns.map(function (c) { return c.name; });
    var order = [];
    names.forEach(function (name, i) {
      if (name.indexOf("paper ") === 0 && names.indexOf(name.slice(6)) >= 0) { return; }
      order.push(i);
      var partner = names.indexOf("paper " + name);
      if (partner >= 0) { order.push(partner); }
    });
    return order;
  }
  function renderTables() {
    app.appendChild(el("p", {cls: "desc", text: "Runs: " + D.runs.map(function (r) { return r.label + " (" + r.path + ")"; }).join(", ") +
      ". Every number links to the episodes it was computed from."}));
    D.tables.forEach(function (table, t) {
      app.appendChild(el("h2", {id: "table-" + table.name, text: table.title}));
      app.appendChild(el("p", {cls: "desc", text: table.description.replace(/\*/g, "")}));
      if (!table.rows.length) { app.appendChild(el("p", {cls: "muted", text: "No condition of this kind in these runs."})); return; }
      var order = columnOrder(table.columns);
      var footnotes = [];
      var head = el("tr");
      order.forEach(function (c) {
        var column = table.columns[c];
        var cls = (column.kind === "text" ? "text" : "") + (column.name.indexOf("paper") === 0 ? " paper" : "");
        head.appendChild(el("th", {cls: cls, title: column.meaning || null, text: column.name === "paper" ? "published" : column.name}));
      });
      var body = el("tbody");
      table.rows.forEach(function (row, r) {
        var tr = el("tr");
        order.forEach(function (c) {
          var column = table.columns[c];
          var cls = (column.kind === "text" ? "text" : "") + (column.name.indexOf("paper") === 0 ? " paper" : "");
          var td = el("td", {cls: cls});
          var pooled = table.refs[r][c] >= 0 ? D.refs[table.refs[r][c]] : null;
          var papers = pooled ? pooled[2] : [];
          if (column.name === "paper" && papers.length) {
            var number = footnoteNumber(footnotes, papers[0]);
            td.appendChild(el("sup", null, el("a", {href: "#fn-" + table.name + "-" + number, text: "[" + number + "]"})));
          } else if (pooled && pooled[0].length) {
            td.appendChild(el("a", {href: "#/cell/" + t + "/" + r + "/" + c, "data-cell": table.name + "/" + r + "/" + column.name,
              title: pooled[0].length + " episode(s)", text: row[c]}));
          } else {
            td.textContent = row[c];
            if (papers.length) { td.appendChild(el("sup", {text: "[" + footnoteNumber(footnotes, papers[0]) + "]"})); }
          }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      app.appendChild(el("table", {cls: "data", id: "data-" + table.name}, el("thead", null, head), body));
      if (footnotes.length) {
        var list = el("ol", {cls: "footnotes"});
        footnotes.forEach(function (text, i) { list.appendChild(el("li", {id: "fn-" + table.name + "-" + (i + 1), text: text})); });
        app.appendChild(list);
      }
      (table.notes || []).forEach(function (note) { app.appendChild(el("p", {cls: "desc", text: note})); });
    });
  }
  function footnoteNumber(list, text) {
    var at = list.indexOf(text);
    if (at < 0) { list.push(text); at = list.length - 1; }
    return at + 1;
  }
  function openCell(t, r, c) {
    var table = D.tables[t];
    var pooled = table && table.refs[r] && table.refs[r][c] >= 0 ? D.refs[table.refs[r][c]] : null;
    if (!pooled || !pooled[0].length) { go("#/tables"); return; }
    if (pooled[0].length === 1) {
      var rounds = pooled[1];
      location.replace("#/episode/" + pooled[0][0] + (rounds.length === 1 ? "/" + rounds[0][1] : ""));
      return;
    }
    location.replace("#/episodes" + queryString({cell: t + "." + r + "." + c}));
  }

  /* ---------- episode list ---------- */
  var CRITIC_FILTERS = [["", "any"], ["fp-any", "false positive (any round)"], ["FP", "FP on final plan"], ["TP", "TP"], ["TN", "TN"],
    ["FN", "FN"], ["unreadable", "unreadable"], ["none", "no critic"]];
  var OUTCOMES = [["", "any"], ["valid", "valid"], ["accepted-invalid", "accepted invalid"], ["gave-up", "gave up"],
    ["invalid", "invalid (no verifier)"], ["error", "error"]];
  function distinct(field) {
    var seen = {};
    D.episodes.forEach(function (e) { seen[e[field] === null ? "" : e[field]] = true; });
    return Object.keys(seen).filter(function (v) { return v !== ""; }).sort(function (a, b) {
      return a.localeCompare(b, undefined, {numeric: true}); });
  }
  function matches(e, query, cellSet) {
    if (cellSet && !cellSet[e.index]) { return false; }
    var row = e.row;
    if (query.condition && D.conditions[row[F.condition]] !== query.condition) { return false; }
    if (query.outcome && row[F.outcome] !== query.outcome) { return false; }
    if (query.critic === "fp-any") { if (!row[F.fp_any]) { return false; } }
    else if (query.critic && row[F.critic] !== query.critic) { return false; }
    if (query.size && row[F.size] !== query.size) { return false; }
    if (query.optimal && String(row[F.optimal]) !== query.optimal) { return false; }
    return true;
  }
  function select(name, options, query) {
    var node = el("select", {name: name, "data-filter": name});
    options.forEach(function (o) { node.appendChild(el("option", {value: o[0], selected: query[name] === o[0] ? "selected" : null, text: o[1]})); });
    node.addEventListener("change", function () {
      var next = Object.assign({}, query); next[name] = node.value; delete next.page; go("#/episodes" + queryString(next));
    });
    return el("label", null, name, node);
  }
  function renderEpisodes(query) {
    var cellSet = null;
    if (query.cell) {
      var p = query.cell.split(".").map(Number);
      var table = D.tables[p[0]];
      var pooled = D.refs[table.refs[p[1]][p[2]]];
      cellSet = {};
      pooled[0].forEach(function (i) { cellSet[i] = true; });
      var label = table.rows[p[1]].filter(function (_, i) { return table.columns[i].kind === "text"; }).slice(0, 2).join(" / ");
      var rest = Object.assign({}, query); delete rest.cell;
      app.appendChild(el("p", {cls: "banner"}, pooled[0].length + " episodes behind " + table.title + ": " + label + ", column “" +
        table.columns[p[2]].name + "” = " + table.rows[p[1]][p[2]] + "  ", el("a", {href: "#/episodes" + queryString(rest), text: "clear"})));
    }
    var filters = el("div", {cls: "filters"});
    filters.appendChild(select("condition", [["", "any"]].concat(D.conditions.map(function (c) { return [c, c]; })), query));
    filters.appendChild(select("outcome", OUTCOMES, query));
    if (hasCritic) { filters.appendChild(select("critic", CRITIC_FILTERS, query)); }
    filters.appendChild(select("size", [["", "any"]].concat(distinct(F.size).map(function (s) { return [s, s]; })), query));
    filters.appendChild(select("optimal", [["", "any"]].concat(distinct(F.optimal).map(function (s) { return [s, s]; })), query));
    if (hasCritic) {
      var fp = Object.assign({}, query, {critic: "fp-any"}); delete fp.page;
      filters.appendChild(el("a", {cls: "button" + (query.critic === "fp-any" ? " active" : ""), id: "only-false-positives",
        href: "#/episodes" + queryString(fp), text: "critic false positives"}));
    }
    app.appendChild(filters);
    var chosen = [];
    for (var i = 0; i < D.episodes.length; i++) {
      var e = {index: i, row: D.episodes[i]};
      if (matches(e, query, cellSet)) { chosen.push(e); }
    }
    var page = Math.max(0, parseInt(query.page || "0", 10) || 0);
    var pages = Math.max(1, Math.ceil(chosen.length / PAGE));
    page = Math.min(page, pages - 1);
    var pager = el("div", {cls: "pager"}, chosen.length + " of " + D.episodes.length + " episodes");
    if (pages > 1) {
      [["« prev", page - 1], ["next »", page + 1]].forEach(function (b) {
        var target = Object.assign({}, query, {page: String(b[1])});
        var button = el("button", {disabled: b[1] < 0 || b[1] >= pages ? "disabled" : null, text: b[0],
          onclick: function () { go("#/episodes" + queryString(target)); }});
        pager.appendChild(button);
      });
      pager.appendChild(document.createTextNode("page " + (page + 1) + " / " + pages));
    }
    app.appendChild(pager);
    var heads = ["episode", "condition", "instance", "size", "optimal", "rounds", "outcome"];
    if (hasCritic) { heads.push("critic"); }
    heads.push("termination", "seed");
    if (D.runs.length > 1) { heads.push("run"); }
    var head = el("tr");
    heads.forEach(function (h, i) { head.appendChild(el("th", {cls: i < 4 ? "text" : "", text: h})); });
    var body = el("tbody");
    chosen.slice(page * PAGE, page * PAGE + PAGE).forEach(function (e) {
      var row = e.row;
      var tr = el("tr", {cls: "clickable", "data-episode": row[F.ref]});
      tr.addEventListener("click", function (ev) { if (ev.target.tagName !== "A") { go("#/episode/" + e.index); } });
      tr.appendChild(el("td", {cls: "text"}, el("a", {href: "#/episode/" + e.index, text: row[F.key]})));
      tr.appendChild(el("td", {cls: "text", text: D.conditions[row[F.condition]]}));
      tr.appendChild(el("td", {cls: "text", text: row[F.instance]}));
      tr.appendChild(el("td", {cls: "text", text: row[F.size]}));
      tr.appendChild(el("td", {text: row[F.optimal] === null ? "—" : String(row[F.optimal])}));
      tr.appendChild(el("td", {text: String(row[F.rounds])}));
      tr.appendChild(el("td", null, tag(row[F.outcome])));
      if (hasCritic) { tr.appendChild(el("td", null, row[F.critic] === "none" ? "—" : tag(row[F.critic]))); }
      tr.appendChild(el("td", {text: row[F.termination]}));
      tr.appendChild(el("td", {text: String(row[F.seed])}));
      if (D.runs.length > 1) { tr.appendChild(el("td", {cls: "text", text: D.runs[row[F.run]].label})); }
      body.appendChild(tr);
    });
    app.appendChild(el("table", {cls: "data", id: "episode-list"}, el("thead", null, head), body));
  }

  /* ---------- one episode ---------- */
  function loadChunk(n) {
    PLV.chunks = PLV.chunks || {};
    if (PLV.chunks[n]) { return Promise.resolve(PLV.chunks[n]); }
    return new Promise(function (resolve, reject) {
      PLV.pending[n] = resolve;
      var script = document.createElement("script");
      script.src = "data/chunk-" + pad(n) + ".js";
      script.onerror = function () { reject(new Error("cannot load " + script.src)); };
      document.body.appendChild(script);
    });
  }
  function renderEpisode(index, targetRound) {
    var row = D.episodes[index];
    if (!row) { app.appendChild(el("p", {text: "No such episode."})); return; }
    app.appendChild(el("p", {cls: "muted", text: "Loading " + row[F.key] + "…"}));
    loadChunk(Math.floor(index / D.chunkSize)).then(function (chunk) {
      app.textContent = "";
      showEpisode(chunk, chunk.episodes[index % D.chunkSize], row, targetRound);
    }, function (error) { app.textContent = error.message; });
  }
  function atomParts(atom) { return atom.replace(/[()]/g, " ").trim().split(/\s+/); }
  function applyDelta(state, delta) {
    var next = {};
    Object.keys(state).forEach(function (a) { next[a] = true; });
    delta[1].forEach(function (a) { delete next[a]; });
    delta[0].forEach(function (a) { next[a] = true; });
    return next;
  }
  function isBlocks(atoms) { return atoms.some(function (a) { var p = atomParts(a)[0]; return p === "ontable" || p === "on-table"; }); }
  function towers(state) {
    var on = {}, table = [], held = [];
    Object.keys(state).forEach(function (a) {
      var p = atomParts(a);
      if (p[0] === "on" && p.length === 3) { on[p[2]] = p[1]; }
      else if ((p[0] === "ontable" || p[0] === "on-table") && p.length === 2) { table.push(p[1]); }
      else if (p[0] === "holding" && p.length === 2) { held.push(p[1]); }
    });
    table.sort();
    var box = el("div");
    var hand = el("div", {cls: "hand"}, "hand:");
    held.forEach(function (b) { hand.appendChild(el("div", {cls: "block held", text: b})); });
    if (!held.length) { hand.appendChild(document.createTextNode(" empty")); }
    box.appendChild(hand);
    var ground = el("div", {cls: "towers"});
    table.forEach(function (bottom) {
      var tower = el("div", {cls: "tower"});
      var seen = {}, current = bottom;
      while (current && !seen[current]) {
        seen[current] = true;
        tower.appendChild(el("div", {cls: "block", text: current}));
        current = on[current];
      }
      ground.appendChild(tower);
    });
    box.appendChild(ground);
    return box;
  }
  function stateBox(label, state, blocks, cls, changed) {
    var box = el("div", {cls: "state " + (cls || "")}, el("div", {cls: "label", text: label}));
    if (blocks) { box.appendChild(towers(state)); }
    else {
      var list = el("div", {cls: "atoms"});
      Object.keys(state).sort().forEach(function (a) {
        list.appendChild(el("div", {text: (changed && changed.indexOf(a) >= 0 ? "+ " : "  ") + a}));
      });
      box.appendChild(list);
    }
    return box;
  }
  function replyWithHighlight(reply, spans) {
    var pre = el("pre", {cls: "reply"});
    var at = 0;
    (spans || []).forEach(function (s) {
      if (s[0] > at) { pre.appendChild(document.createTextNode(reply.slice(at, s[0]))); }
      pre.appendChild(el("mark", {text: reply.slice(s[0], s[1])}));
      at = s[1];
    });
    pre.appendChild(document.createTextNode(reply.slice(at)));
    return pre;
  }
  function verdictText(valid) { return valid === true ? "valid" : valid === false ? "invalid" : "none / unreadable"; }
  function showEpisode(chunk, ep, row, targetRound) {
    var verifier = ep.verifier || {};
    var instance = ep.instance || {};
    app.appendChild(el("p", null, el("a", {href: "#/episodes", text: "« all episodes"})));
    app.appendChild(el("h2", {id: "episode-key", text: ep.key}));
    var head = el("div", {cls: "episode-head"});
    [["condition", ep.condition], ["system", ep.system],
     ["verifier", (verifier.kind || "none") + (verifier.feedback ? ", feedback " + verifier.feedback : "") +
       (verifier.kind === "llm" ? ", critic " + verifier.critic_model + " " + (verifier.critic_mode || "") +
        (verifier.stepwise ? ", step-wise" : "") + (verifier.votes > 1 ? ", " + verifier.votes + " votes" : "") : "")],
     ["generator", ep.generator_model], ["context", ep.context_policy], ["instance", instance.id + " (" + instance.set + ")"],
     ["size", row[F.size] || "—"], ["optimal length", instance.optimal_length === null ? "—" : String(instance.optimal_length)],
     ["seed", String(ep.seed)], ["termination", ep.termination + (ep.error ? " (" + ep.error + ")" : "")]
    ].forEach(function (kv) { head.appendChild(el("span", null, el("b", {text: kv[0] + ": "}), kv[1] || "—")); });
    head.appendChild(el("span", null, el("b", {text: "outcome: "}), tag(row[F.outcome])));
    if (row[F.critic] !== "none") { head.appendChild(el("span", null, el("b", {text: "critic on final plan: "}), tag(row[F.critic]))); }
    app.appendChild(head);
    var blocks = ep.init ? isBlocks(ep.init) : false;
    var previous = [];
    var target = null;
    ep.rounds.forEach(function (r) {
      var box = renderRound(chunk, ep, r, blocks, previous);
      previous = r.messages;
      if (targetRound !== null && r.round === targetRound) { box.classList.add("target"); target = box; }
      app.appendChild(box);
    });
    if (target) { target.scrollIntoView(); }
  }
  function renderRound(chunk, ep, r, blocks, previous) {
    var truth = r.ground_truth || {};
    var verdict = r.verdict || {};
    var box = el("section", {cls: "round", id: "round-" + r.round, "data-round": r.round});
    box.appendChild(el("h3", null, "Round " + r.round, el("span", {cls: "muted", text: "verdict"}),
      tag(verdictText(verdict.valid), verdict.valid === true ? "valid" : verdict.valid === false ? "invalid" : "unreadable"),
      el("span", {cls: "muted", text: "ground truth"}), tag(truth.valid ? "valid" : "invalid", truth.valid ? "valid" : "FP")));
    var left = el("div"), right = el("div");
    // prompt: the turns that are new in this round open, the rest folded
    var fresh = 0;
    while (fresh < Math.min(previous.length, r.messages.length) && previous[fresh][1] === r.messages[fresh][1]) { fresh++; }
    if (fresh === r.messages.length && fresh > 0) { fresh = r.messages.length - 1; }
    var older = el("details", null, el("summary", {text: fresh + " earlier message(s) of the prompt"}));
    r.messages.forEach(function (m, i) {
      var part = [el("div", {cls: "role", text: m[0]}), el("pre", {text: chunk.strings[m[1]]})];
      var into = i < fresh ? older : left;
      if (i === fresh) { left.appendChild(el("div", {cls: "role", text: "prompt"})); }
      part.forEach(function (p) { into.appendChild(p); });
    });
    if (fresh > 0) { left.insertBefore(older, left.firstChild); }
    left.appendChild(el("div", {cls: "role", text: "reply (extracted plan highlighted)"}));
    left.appendChild(replyWithHighlight(r.reply, r.highlight));
    // parsed plan, the validator's failing step marked
    var failed = truth.failed_step;
    var trace = r.trace;
    right.appendChild(el("div", {cls: "role", text: "parsed plan"}));
    if (r.plan === null || r.plan === undefined) {
      right.appendChild(el("p", {cls: "judgement bad", text: "no plan read: " + (r.parse_error || "")}));
    } else {
      var list = el("ol", {cls: "plan"});
      r.plan.forEach(function (step, i) {
        var cls = failed === i + 1 ? "failed" : (failed && i + 1 > failed ? "unrun" : "");
        list.appendChild(el("li", {cls: cls, "data-step": i + 1, text: step}));
      });
      right.appendChild(list);
    }
    right.appendChild(el("div", {cls: "role", text: "verifier (" + ((ep.verifier || {}).kind || "none") + ")"}));
    right.appendChild(el("div", {cls: "judgement " + (verdict.valid ? "good" : "bad"), text: "verdict: " + verdictText(verdict.valid)}));
    if (verdict.feedback) { right.appendChild(el("div", {cls: "role", text: "feedback sent back"})); right.appendChild(el("pre", {text: verdict.feedback})); }
    ((verdict.detail || {}).votes || []).forEach(function (vote, i) {
      right.appendChild(el("details", null, el("summary", {text: "critic reply " + (i + 1) + " (" + vote.reading + ", " + vote.valid + ")"}),
        el("pre", {text: vote.text})));
    });
    if ((verdict.detail || {}).error) { right.appendChild(el("p", {cls: "judgement bad", text: "verifier error: " + verdict.detail.error})); }
    right.appendChild(el("div", {cls: "role", text: "sound validator"}));
    var judgement = el("div", {cls: "judgement " + (truth.valid ? "good" : "bad"), "data-testid": "validator"});
    if (truth.valid) { judgement.appendChild(document.createTextNode("valid: the plan reaches the goal")); }
    else {
      judgement.appendChild(document.createTextNode("invalid"));
      if (failed !== null && failed !== undefined) {
        judgement.appendChild(el("div", null, "failing step ", el("b", {cls: "failed-step", "data-step": failed, text: String(failed)}),
          ": " + (truth.action || "")));
        if ((truth.unmet_preconditions || []).length) { judgement.appendChild(el("div", {cls: "unmet", text: "unmet preconditions: " + truth.unmet_preconditions.join(" ")})); }
      }
      if ((truth.unmet_goals || []).length) { judgement.appendChild(el("div", {cls: "unmet-goals", text: "unmet goals: " + truth.unmet_goals.join(" ")})); }
      (truth.errors || []).forEach(function (e) { judgement.appendChild(el("div", {text: e.kind + ": " + e.message})); });
    }
    right.appendChild(judgement);
    if (trace && failed !== trace.failed_step) {
      right.appendChild(el("p", {cls: "judgement bad", text: "note: re-validating now fails at step " + trace.failed_step + ", the record says " + failed}));
    }
    var cols = el("div", {cls: "cols"}, left, right);
    box.appendChild(cols);
    if (trace && ep.init) { box.appendChild(renderStates(ep, r, trace, blocks)); }
    return box;
  }
  function renderStates(ep, r, trace, blocks) {
    var wrap = el("div", null, el("div", {cls: "role", text: "state after each step" + (blocks ? " (towers: bottom block on the table)" : "")}));
    var states = [];
    var state = {};
    ep.init.forEach(function (a) { state[a] = true; });
    states.push({label: "initial", state: state, added: []});
    trace.deltas.forEach(function (d, i) {
      state = applyDelta(state, d);
      states.push({label: "after " + (i + 1) + ": " + r.plan[i], state: state, added: d[0]});
    });
    var grid = el("div", {cls: "states"});
    var failed = trace.failed_step;
    if (blocks) {
      states.forEach(function (s, i) { grid.appendChild(stateBox(s.label, s.state, true, i === states.length - 1 && failed ? "failed" : "", s.added)); });
      if (failed) { grid.lastChild.querySelector(".label").textContent += " — step " + failed + " cannot run here"; }
    } else {
      var shown = el("div");
      var pick = el("select", {"data-states": r.round});
      states.forEach(function (s, i) { pick.appendChild(el("option", {value: i, selected: i === states.length - 1 ? "selected" : null, text: s.label})); });
      var draw = function () { shown.textContent = ""; var s = states[+pick.value]; shown.appendChild(stateBox(s.label, s.state, false, "", s.added)); };
      pick.addEventListener("change", draw);
      draw();
      grid.appendChild(el("label", null, "state: ", pick));
      grid.appendChild(shown);
    }
    var goal = el("div", {cls: "state goal"}, el("div", {cls: "label", text: "goal"}));
    (ep.goal || []).forEach(function (g) { goal.appendChild(el("div", {cls: "atoms", text: g})); });
    grid.appendChild(goal);
    wrap.appendChild(grid);
    return wrap;
  }

  document.getElementById("title").textContent = D.title;
  document.title = D.title;
  window.addEventListener("hashchange", route);
  route();
  window.PLV.ready = true;
})();
