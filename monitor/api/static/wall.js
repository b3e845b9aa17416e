// The wall (电子监察大屏): live over server-sent events, no build step.
//
// The token comes from the page's own URL (/wall?token=…); it is kept for this tab in
// sessionStorage and taken out of the address bar, then sent to /v1/stream (as ?token=, since
// EventSource cannot send headers) and to /v1/stats/overview (as a bearer header).
// A `change` event says only what changed; the page then re-fetches the overview (coalesced)
// rather than patching its figures from partial data. Any event (snapshot, change,
// heartbeat) proves the feed alive: without one for STALE_S seconds the page dims and says so.
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  const LANG = params.get("lang") === "en" ? "en" : "zh";
  const STALE_S = Math.max(3, Number(params.get("stale")) || 10);
  const COALESCE_MS = 150;
  const MAX_ROWS = Math.max(1, Number(params.get("rows")) || 10);
  const ZONE = "Asia/Shanghai";

  const TEXT = {
    zh: {
      title: "电子监察 · 实时监控", motto: "限时办结 · 超时问责亮红灯", data_at: "数据更新于",
      stale: "数据已停止更新", red: "红灯", yellow: "黄灯", green: "绿灯", suspended: "暂停",
      overdue_cases: "超期案件", case_id: "办件编号", item: "事项", department: "部门",
      center: "中心", overdue_for: "超期时长", no_red: "当前无超期案件",
      ranking: "部门排名", rank: "名次", on_time_rate: "按时办结率", completed: "办结",
      breached: "超期", share: "用时占比", no_ranking: "本周暂无数据",
      week: (w) => `本周 ${w}`, more: (n) => `另有 ${n} 件超期案件`, count: (n) => `共 ${n} 件`,
      last_seen: (t, s) => `最后收到 ${t}（${s} 秒前），正在重新连接…`,
      never: "尚未收到数据，正在连接…", days: "天",
      no_token: "缺少查看令牌：请用 /wall?token=… 打开本页",
      bad_token: "查看令牌无效或已吊销：请向管理员申请新的令牌",
    },
    en: {
      title: "Supervision · Live", motto: "Every case on time · red when late",
      data_at: "Data as of", stale: "Data has stopped updating", red: "Red", yellow: "Yellow",
      green: "Green", suspended: "Suspended", overdue_cases: "Overdue cases", case_id: "Case",
      item: "Item", department: "Department", center: "Centre", overdue_for: "Overdue by",
      no_red: "No overdue case", ranking: "Department ranking", rank: "#",
      on_time_rate: "On time", completed: "Done", breached: "Late", share: "Time used",
      no_ranking: "Nothing this week yet", week: (w) => `week ${w}`,
      more: (n) => `${n} more overdue`, count: (n) => `${n} in all`,
      last_seen: (t, s) => `last heard ${t} (${s} s ago), reconnecting…`,
      never: "No data yet, connecting…", days: "d",
      no_token: "No viewer token: open this page as /wall?token=…",
      bad_token: "The viewer token is unknown or revoked: ask for a new one",
    },
  }[LANG];

  // -- the token ------------------------------------------------------------------------------
  let token = params.get("token") || sessionStorage.getItem("redline-wall-token") || "";
  if (params.has("token")) {
    sessionStorage.setItem("redline-wall-token", token);
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
  }

  // -- state ----------------------------------------------------------------------------------
  let offsetMs = 0; // server clock minus this machine's clock
  let lastHeard = null; // Date.now() of the newest event of the stream
  let red = []; // [{case_id, deadlineMs, ...}]
  let knownRed = new Set();
  let source = null;
  let retryMs = 1000;
  let fetching = false;
  let again = false;
  let pending = null; // the scheduled fetch

  const $ = (id) => document.getElementById(id);
  const serverNow = () => Date.now() + offsetMs;

  const timeFmt = new Intl.DateTimeFormat("zh-CN", {
    timeZone: ZONE, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  const dateFmt = new Intl.DateTimeFormat(LANG === "en" ? "en-GB" : "zh-CN", {
    timeZone: ZONE, year: "numeric", month: "long", day: "numeric", weekday: "long",
  });

  function translate() {
    document.documentElement.lang = LANG === "en" ? "en" : "zh-CN";
    for (const node of document.querySelectorAll("[data-i18n]")) {
      const text = TEXT[node.dataset.i18n];
      if (typeof text === "string") node.textContent = text;
    }
    document.title = TEXT.title;
  }

  // under a day: hh:mm:ss, ticking; beyond: "3天 04:12" (seconds no longer matter)
  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const days = Math.floor(s / 86400);
    const parts = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60];
    const two = (n) => String(n).padStart(2, "0");
    return days > 0
      ? `${days}${TEXT.days} ${two(parts[0])}:${two(parts[1])}`
      : parts.map(two).join(":");
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined || text === "" ? "—" : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  // -- rendering ------------------------------------------------------------------------------
  function render(view) {
    offsetMs = view.server_epoch_ms - Date.now();
    for (const tile of document.querySelectorAll("#totals .tile")) {
      const n = view.totals[tile.dataset.light];
      tile.querySelector(".count").textContent = n === undefined ? "—" : String(n);
    }
    renderRed(view.red, view.totals.red);
    renderRanking(view.ranking, view.week);
    if (view.last_change_at) $("data-at").textContent = timeFmt.format(new Date(view.last_change_at));
  }

  function renderRed(cases, total) {
    const body = $("red-list");
    red = cases.map((c) => ({ ...c, deadlineMs: c.deadline ? Date.parse(c.deadline) : null }));
    const rows = red.slice(0, MAX_ROWS).map((c) => {
      const row = document.createElement("tr");
      row.dataset.caseId = c.case_id;
      if (knownRed.size > 0 && !knownRed.has(c.case_id)) row.className = "fresh-red";
      cell(row, c.case_id, "case-id");
      cell(row, c.item_name || c.item_code);
      cell(row, c.department);
      cell(row, c.center_name || c.center);
      cell(row, "", "num overdue-for");
      return row;
    });
    body.replaceChildren(...rows);
    knownRed = new Set(red.map((c) => c.case_id));
    if (knownRed.size === 0) knownRed.add(""); // later arrivals still flash after an empty list
    $("red-empty").hidden = red.length > 0;
    const hiddenCount = Math.max(0, (total || red.length) - rows.length);
    $("red-more").hidden = hiddenCount === 0;
    $("red-more").textContent = TEXT.more(hiddenCount);
    $("red-count").textContent = total ? TEXT.count(total) : "";
    tickOverdue();
  }

  function renderRanking(lines, week) {
    $("week").textContent = TEXT.week(week);
    const rows = lines.map((line) => {
      const row = document.createElement("tr");
      if (line.rank === 1 && line.on_time_rate !== null) row.classList.add("best");
      if (line.breached > 0 || line.overdue_now > 0) row.classList.add("bad");
      cell(row, line.rank, "num");
      cell(row, line.department || "—");
      cell(row, percent(line.on_time_rate), "num rate");
      cell(row, line.completed, "num");
      cell(row, line.breached, "num breached");
      cell(row, percent(line.average_share), "num");
      return row;
    });
    $("ranking").replaceChildren(...rows);
    $("ranking-empty").hidden = lines.length > 0;
  }

  function tickOverdue() {
    const now = serverNow();
    const cells = document.querySelectorAll("#red-list td.overdue-for");
    red.slice(0, cells.length).forEach((c, i) => {
      cells[i].textContent = c.deadlineMs === null ? "—" : duration((now - c.deadlineMs) / 1000);
    });
  }

  function tick() {
    const now = new Date(serverNow());
    $("clock-time").textContent = timeFmt.format(now);
    $("clock-date").textContent = dateFmt.format(now);
    tickOverdue();
    freshness();
  }

  function freshness() {
    const silent = lastHeard === null ? Infinity : (Date.now() - lastHeard) / 1000;
    const stale = silent > STALE_S;
    document.body.classList.toggle("stale", stale);
    $("stale-banner").hidden = !stale;
    $("stale-detail").textContent = lastHeard === null
      ? TEXT.never
      : TEXT.last_seen(timeFmt.format(new Date(lastHeard + offsetMs)), Math.floor(silent));
  }

  // -- data -----------------------------------------------------------------------------------
  async function refetch() {
    if (fetching) { again = true; return; }
    fetching = true;
    try {
      const answer = await fetch("/v1/stats/overview", {
        headers: { Authorization: `Bearer ${token}` }, cache: "no-store",
      });
      if (answer.ok) render(await answer.json());
      else if (answer.status === 401 || answer.status === 403) showAuth(TEXT.bad_token);
    } catch (error) {
      // the stream's own reconnect takes care of a dead API; the next change fetches again
    } finally {
      fetching = false;
      if (again) { again = false; schedule(); }
    }
  }

  // changes coalesce: the first one schedules a fetch, those before it runs ride along. Never
  // pushed back, so a busy feed still refreshes the page every COALESCE_MS or so
  function schedule() {
    if (pending !== null) return;
    pending = setTimeout(() => { pending = null; refetch(); }, COALESCE_MS);
  }

  function heard() {
    lastHeard = Date.now();
    freshness();
  }

  function showAuth(text) {
    $("auth-banner").textContent = text;
    $("auth-banner").hidden = false;
  }

  function connect() {
    if (!token) { showAuth(TEXT.no_token); return; }
    source = new EventSource(`/v1/stream?token=${encodeURIComponent(token)}`);
    source.addEventListener("open", () => { retryMs = 1000; });
    source.addEventListener("snapshot", (event) => {
      heard();
      $("auth-banner").hidden = true;
      render(JSON.parse(event.data));
    });
    source.addEventListener("change", () => { heard(); schedule(); });
    source.addEventListener("heartbeat", (event) => {
      heard();
      const beat = JSON.parse(event.data);
      offsetMs = beat.server_epoch_ms - Date.now();
      if (beat.last_change_at) {
        $("data-at").textContent = timeFmt.format(new Date(beat.last_change_at));
      }
    });
    source.addEventListener("error", () => {
      // EventSource retries a broken stream by itself (with Last-Event-ID); a refused one
      // (401, 5xx, network down at connect) it closes: then start over, backing off
      if (source.readyState !== EventSource.CLOSED) return;
      source = null;
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
      probeAuth();
    });
  }

  async function probeAuth() {
    try {
      const answer = await fetch("/v1/stats/overview", {
        headers: { Authorization: `Bearer ${token}` }, cache: "no-store",
      });
      if (answer.status === 401 || answer.status === 403) showAuth(TEXT.bad_token);
    } catch (error) {
      // the API is down: the stale banner says so
    }
  }

  translate();
  tick();
  setInterval(tick, 1000);
  connect();
})();
