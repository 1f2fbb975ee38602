import "cesium/Build/Cesium/Widgets/widgets.css";
import "./cockpit.css";
import { Cartesian3, Math as CesiumMath } from "cesium";
import type { Alarm } from "../../../models/alarms.ts";
import type { Device } from "../../../models/devices.ts";
import { flyWithoutInertia } from "../camera-flight.ts";
import { CameraPopups, installCameraPopups } from "../cameras/camera-popup.ts";
import { fetchLayers } from "../catalog.ts";
import { currentLang, initI18n, onLangChange, setLang, t, translateDom } from "../i18n.ts";
import { fetchDevices } from "../iot/api.ts";
import { CITY_TIME_ZONE } from "../iot/labels.ts";
import { sharedLiveClient } from "../iot/live-client.ts";
import { MapLayer } from "../layers.ts";
import { createOfflineViewer } from "../scene.ts";
import type { ReplayFrame } from "../timeline/replay-state.ts";
import { replaySummary } from "../timeline/replay-summary.ts";
import { replayedAlarm } from "../timeline/replayed-alarm.ts";
import { TimeTravel } from "../timeline/time-travel.ts";
import { TimelineBar } from "../timeline/timeline-bar.ts";
import { AlarmFocus } from "./alarm-focus.ts";
import { fetchRecentAlarms } from "./api.ts";
import { DispatchPanel } from "./dispatch-panel.ts";
import { pickKeySensors } from "./key-sensors.ts";
import { KLine } from "./kline.ts";
import { LiveChart } from "./live-chart.ts";
import { Overview } from "./overview.ts";
import { audienceFromUrl, canDispatch, deviceVisible, summaryScope } from "./role.ts";
import { SceneStyle } from "./scene-style.ts";
import { fitStage } from "./stage.ts";
import { SummaryPanels } from "./summary-panels.ts";
import { installCockpitHook } from "./test-hook.ts";
import { AlarmTicker } from "./ticker.ts";
import { AutoTour, tourStops } from "./tour.ts";

const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const DAY_MS = 24 * 3600_000;

async function main(): Promise<void> {
  await initI18n();
  translateDom();
  const stage = byId("cockpit-stage");
  const scale = fitStage(stage);
  const audience = audienceFromUrl();
  document.body.dataset.role = audience.role;

  const viewer = createOfflineViewer(byId("cockpit-scene"), byId("cockpit-credits"));
  const style = new SceneStyle(viewer);
  const popups = new CameraPopups(viewer, stage);
  installCameraPopups(popups);
  const live = sharedLiveClient();
  const liveBadge = byId("cockpit-live");
  /** While replaying the past the badge says so: the screen is not live then, whatever the connection. */
  let replaying = false;
  const showLive = () => {
    const status = replaying ? "replay" : live.status;
    liveBadge.dataset.status = status;
    liveBadge.textContent = t(`cockpit.live.${status}`);
  };
  live.onStatus(showLive);
  showLive();

  // The audience's own devices and alarms in the figures: a department its own, the public shared data only.
  const panels = new SummaryPanels(stage, summaryScope(audience));
  const liveChart = new LiveChart(byId("chart-live"), live);
  const kline = new KLine(byId("chart-kline"));
  const ticker = new AlarmTicker(byId("cockpit-ticker"));
  const overview = new Overview(byId<HTMLDivElement>("cockpit-overview"));
  const focus = new AlarmFocus(viewer, style, byId("cockpit-focus"), popups);
  const dispatchEl = stage.querySelector<HTMLElement>('[data-panel="dispatch"]')!;
  const dispatch = new DispatchPanel(dispatchEl);
  let mapLayers: MapLayer[] = [];
  const tour = new AutoTour(viewer, () => tourStops(mapLayers));
  const devices = new Map<string, Device>();
  let mode: "peace" | "war" = "peace";

  ticker.visible = (alarm) => {
    if (audience.role === "leader" && !audience.department) return true;
    const device = devices.get(alarm.deviceId);
    return device !== undefined && deviceVisible(audience, device);
  };
  ticker.onSelect = (alarm) => {
    tour.setRunning(false);
    void focus.focus(alarm);
  };
  focus.onFocus((alarm) => {
    if (mode === "war") dispatch.show(alarm, devices.get(alarm.deviceId)?.department);
  });
  dispatch.onDispatched = () => panels.refreshSoon();
  overview.onCellClick = (lon, lat) => {
    tour.setRunning(false);
    flyWithoutInertia(viewer, (done) =>
      viewer.camera.flyTo({
        destination: Cartesian3.fromDegrees(lon, lat - 0.004, 450),
        orientation: { heading: 0, pitch: CesiumMath.toRadians(-42), roll: 0 },
        duration: 1.5,
        complete: done,
        cancel: done,
      }),
    );
    viewer.scene.requestRender();
  };

  // Time travel: the last 24 h replayed on the KPI charts, the ticker and the heat map.
  const timeTravel = new TimeTravel();
  const timelineBar = new TimelineBar(timeTravel, CITY_TIME_ZONE);
  timelineBar.element.classList.add("cockpit-timeline");
  stage.append(timelineBar.element);
  let lastReplayDraw = 0;
  const drawReplay = (frame: ReplayFrame) => {
    lastReplayDraw = performance.now();
    const liveSummary = panels.summary;
    if (liveSummary) panels.showReplay(replaySummary(liveSummary, frame, (id) => devices.get(id)?.type));
    // The audience's alarms only: the heat map would otherwise show the public where unshared sensors alarmed.
    const alarms = [...frame.alarms.values()]
      .map(replayedAlarm)
      .filter((a) => ticker.visible(a))
      .sort((a, b) => Date.parse(b.raisedAt) - Date.parse(a.raisedAt));
    ticker.setAlarms(alarms);
    overview.setAlarms(alarms.filter((a) => Date.parse(a.raisedAt) >= frame.t - DAY_MS));
    liveChart.showReplayAt(frame.t);
    kline.showReplayAt(frame.t);
  };
  timeTravel.onFrame((frame) => {
    // Charts redraw at most 4 times a second while playing; a seek or the last frame always draws.
    if (!timeTravel.playing || performance.now() - lastReplayDraw > 250) drawReplay(frame);
  });
  timeTravel.onModeChange((active) => {
    replaying = active;
    showLive();
    const span = timeTravel.window;
    if (active && span) {
      void liveChart.enterReplay(span.from, span.to);
      void kline.enterReplay(span.from, span.to);
      return;
    }
    liveChart.leaveReplay();
    kline.leaveReplay();
    panels.showReplay(undefined);
    void loadAlarms();
  });

  live.onAlarm((message) => {
    panels.refreshSoon();
    // The alarm being dispatched keeps its live status (its next step depends on it), replay or not.
    dispatch.update(message.alarm);
    focus.update(message.alarm);
    // While replaying, the ticker shows the past; it is read again on the way back to live.
    if (timeTravel.active) return;
    ticker.apply(message);
    if (message.event === "raised") overview.setAlarms([...todaysAlarms(ticker.items)]);
    // Wartime: a new red or orange alarm takes the focus at once, if it is one this audience sees (a
    // department's dispatch panel must not offer another department's alarm).
    if (
      mode === "war" &&
      message.event === "raised" &&
      ["red", "orange"].includes(message.alarm.level) &&
      ticker.visible(message.alarm)
    )
      void focus.focus(message.alarm);
  });

  const tourButton = byId<HTMLButtonElement>("cockpit-tour");
  tourButton.addEventListener("click", () => tour.setRunning(!tour.isRunning));
  tour.onChange((running) => {
    tourButton.dataset.i18n = running ? "cockpit.tour.stop" : "cockpit.tour.start";
    tourButton.textContent = t(tourButton.dataset.i18n);
    tourButton.setAttribute("aria-pressed", String(running));
  });

  const modeButtons = [...stage.querySelectorAll<HTMLButtonElement>(".cockpit-mode [data-mode]")];
  const setMode = (next: "peace" | "war") => {
    mode = next === "war" && canDispatch(audience) ? "war" : "peace";
    document.body.dataset.mode = mode;
    for (const b of modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    dispatchEl.hidden = mode !== "war";
    if (mode === "war") {
      tour.setRunning(false);
      const worst = mostUrgent(ticker.items);
      dispatch.show(worst, worst ? devices.get(worst.deviceId)?.department : undefined);
      if (worst) void focus.focus(worst);
    }
  };
  for (const b of modeButtons) b.addEventListener("click", () => setMode(b.dataset.mode as "peace" | "war"));
  setMode(new URLSearchParams(location.search).get("mode") === "war" ? "war" : "peace");

  byId("cockpit-lang").addEventListener("click", () => void setLang(currentLang() === "en" ? "zh-CN" : "en"));
  const roleLabel = byId("cockpit-role");
  const clock = byId("cockpit-clock");
  const tick = () => {
    clock.textContent = new Date().toLocaleString(currentLang() === "en" ? "en-GB" : "zh-CN", {
      timeZone: CITY_TIME_ZONE,
      hour12: false,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  };
  const relabel = () => {
    translateDom();
    roleLabel.textContent = t(`cockpit.role.${audience.role}`);
    tick();
    showLive();
    panels.render();
    ticker.render();
    liveChart.redraw();
    kline.redraw();
    timelineBar.render();
    if (dispatch.current || mode === "war") dispatch.show(dispatch.current);
  };
  onLangChange(relabel);
  relabel();
  setInterval(tick, 1000);

  async function loadLayers(): Promise<void> {
    const layers = await fetchLayers();
    mapLayers = layers.map((l) => new MapLayer(l, viewer));
    style.setLayers(mapLayers);
    const district = layers.find((l) => l.type === "buildings") ?? layers[0];
    if (district) {
      const [w, s, e, n, minH] = district.bbox;
      style.setRingCentre((w + e) / 2, (s + n) / 2, minH);
    }
    void overview.setCatalog(layers);
    const loads = mapLayers.map((l) => l.load());
    const first = mapLayers.find((l) => l.layer.id === district?.id);
    if (first) {
      await loads[mapLayers.indexOf(first)];
      await first.flyTo(1.5);
    }
    await Promise.all(loads);
  }

  async function loadDevices(): Promise<void> {
    const all = await fetchDevices();
    for (const d of all) devices.set(d.id, d);
    const shown = all.filter((d) => deviceVisible(audience, d));
    overview.setDevices(shown);
    const keys = pickKeySensors(shown);
    await Promise.all([liveChart.setSensors(keys), kline.load(keys[0])]);
  }

  async function loadAlarms(): Promise<void> {
    ticker.setAlarms(await fetchRecentAlarms(200));
    overview.setAlarms(todaysAlarms(ticker.items));
  }

  const ready = (async () => {
    await Promise.all([loadLayers(), loadDevices().then(loadAlarms), panels.refresh()]);
    // Opened in wartime (?mode=war): the focus needs the alarms, and must come after the first flight.
    if (document.body.dataset.mode === "war") setMode("war");
    style.animate(new URLSearchParams(location.search).get("animate") !== "0");
  })();
  ready.catch((err) => {
    console.error("cockpit:", err);
    document.body.dataset.fatal = String(err);
  });

  installCockpitHook({
    viewer,
    ready,
    kpis: () => panels.values,
    summaryLoads: () => panels.loadCount,
    camera: () => {
      const c = viewer.camera.positionCartographic;
      return {
        lon: CesiumMath.toDegrees(c.longitude),
        lat: CesiumMath.toDegrees(c.latitude),
        height: c.height,
      };
    },
    ticker: () =>
      ticker.items.map((a) => ({ id: a.id, deviceId: a.deviceId, level: a.level, status: a.status })),
    focus: () => focus.state ?? null,
    live: () => ({ status: live.status, points: liveChart.points() }),
    tilesLoaded: () => mapLayers.every((l) => l.tilesLoaded()),
    mode: () => mode,
    role: () => audience.role,
    overview: () => ({ devices: overview.deviceCount, alarms: overview.alarmCount }),
    overviewPoint: (lon, lat) => {
      const p = overview.project(lon, lat);
      if (!p) return null;
      const rect = byId("cockpit-overview").getBoundingClientRect();
      return { x: rect.left + p[0] * scale(), y: rect.top + p[1] * scale() };
    },
    tour: () => ({ running: tour.isRunning, stop: tour.currentStop }),
    scale,
  });
}

/** Alarms raised in the last 24 hours. */
function todaysAlarms(alarms: readonly Alarm[]): Alarm[] {
  const since = Date.now() - DAY_MS;
  return alarms.filter((a) => Date.parse(a.raisedAt) >= since);
}

/** The open alarm wartime focuses on: the most severe still active, newest first. */
function mostUrgent(alarms: readonly Alarm[]): Alarm | undefined {
  const order = ["red", "orange", "yellow", "blue"];
  return [...alarms]
    .filter((a) => a.status !== "closed")
    .sort(
      (a, b) => Number(b.active) - Number(a.active) || order.indexOf(a.level) - order.indexOf(b.level),
    )[0];
}

main().catch((err) => {
  console.error(err);
  document.body.dataset.fatal = String(err);
});
