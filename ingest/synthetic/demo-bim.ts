import {
  IFC4,
  IFCAPPLICATION,
  IFCAREAMEASURE,
  IFCBOOLEAN,
  IFCBUILDING,
  IFCBUILDINGSTOREY,
  IFCCOLOURRGB,
  IFCDOOR,
  IFCGEOMETRICREPRESENTATIONCONTEXT,
  IFCGEOMETRICREPRESENTATIONSUBCONTEXT,
  IFCIDENTIFIER,
  IFCINTEGER,
  IFCLABEL,
  IFCMATERIAL,
  IFCNORMALISEDRATIOMEASURE,
  IFCOPENINGELEMENT,
  IFCORGANIZATION,
  IFCOWNERHISTORY,
  IFCPERSON,
  IFCPERSONANDORGANIZATION,
  IFCPOSTALADDRESS,
  IFCPROJECT,
  IFCRELAGGREGATES,
  IFCRELASSOCIATESMATERIAL,
  IFCRELCONTAINEDINSPATIALSTRUCTURE,
  IFCRELFILLSELEMENT,
  IFCRELVOIDSELEMENT,
  IFCSITE,
  IFCSIUNIT,
  IFCSLAB,
  IFCSPACE,
  IFCSURFACESTYLE,
  IFCSURFACESTYLERENDERING,
  IFCTHERMALTRANSMITTANCEMEASURE,
  IFCUNITASSIGNMENT,
  IFCWALL,
  IFCWINDOW,
  IfcAPI,
  LogLevel,
} from "web-ifc";
import { createGuidGenerator } from "./demo-bim/guid.ts";
import { Ifc4Writer, type PropertyDef, type Ref } from "./demo-bim/ifc-writer.ts";
import {
  demoBimLayout,
  FOOTPRINT_LENGTH,
  FOOTPRINT_WIDTH,
  type InsertPlan,
  type SlabPlan,
  type SpacePlan,
  type StoreyPlan,
  type WallPlan,
} from "./demo-bim/layout.ts";
import { demoBimSite } from "./demo-city.ts";

export { demoBimLayout } from "./demo-bim/layout.ts";

/**
 * The demo's BIM scheme: 「宿迁科创中心」, a 4-storey office building designed for the vacant block of the demo city
 * (see `demoBimSite()`), written as a real IFC4 file through web-ifc's model-writing API. Deterministic: the same
 * bytes on every run (GlobalIds are name-based, the header time stamp is fixed).
 */
export const DEMO_BIM_NAME = "宿迁科创中心";
export const DEMO_BIM_FILE_NAME = "suqian-kechuang-center.ifc";
/** Written into the STEP header and IfcOwnerHistory instead of the wall clock, so the output is reproducible. */
export const DEMO_BIM_TIMESTAMP = "2026-01-01T00:00:00";
export const DEMO_BIM_DESIGNER = "宿迁市规划设计研究院";
/** Seed of the GlobalId generator: change it and every GlobalId changes. */
const GUID_SEED = "cim-twin/demo-bim/宿迁科创中心/v1";

const COLOURS = {
  wall: { name: "墙体-浅灰", rgb: [0.85, 0.85, 0.83], transparency: 0 },
  slab: { name: "楼板-深灰", rgb: [0.5, 0.5, 0.5], transparency: 0 },
  window: { name: "玻璃-蓝", rgb: [0.45, 0.68, 0.9], transparency: 0.6 },
  door: { name: "木门-棕", rgb: [0.55, 0.35, 0.18], transparency: 0 },
  space: { name: "空间-浅绿", rgb: [0.6, 0.85, 0.6], transparency: 0.85 },
} as const;

/** Degrees to IfcCompoundPlaneAngleMeasure (degrees, minutes, seconds, millionths of a second; one sign for all). */
export function toCompoundPlaneAngle(degrees: number): [number, number, number, number] {
  const sign = degrees < 0 ? -1 : 1;
  const micro = Math.round(Math.abs(degrees) * 3_600_000_000);
  const d = Math.floor(micro / 3_600_000_000);
  const m = Math.floor((micro % 3_600_000_000) / 60_000_000);
  const s = Math.floor((micro % 60_000_000) / 1_000_000);
  const u = micro % 1_000_000;
  return [sign * d, sign * m, sign * s, sign * u];
}

/** IfcCompoundPlaneAngleMeasure back to decimal degrees. */
export function fromCompoundPlaneAngle(parts: readonly number[]): number {
  const [d = 0, m = 0, s = 0, u = 0] = parts;
  return d + m / 60 + s / 3600 + u / 3_600_000_000;
}

/** Generates the IFC4 file of 「宿迁科创中心」 (STEP text, ASCII with \X2\ escapes for Chinese). */
export async function generateDemoBimIfc(storeyCount?: number): Promise<Uint8Array> {
  const api = new IfcAPI();
  await api.Init();
  api.SetLogLevel(LogLevel.LOG_LEVEL_ERROR);
  const model = api.CreateModel({
    schema: "IFC4",
    name: DEMO_BIM_FILE_NAME,
    description: ["ViewDefinition [ReferenceView_V1.2]"],
    authors: ["CIM Twin"],
    organizations: [DEMO_BIM_DESIGNER],
    authorization: "none",
  });
  if (model < 0) throw new Error("web-ifc could not create an IFC4 model");
  try {
    const w = new Ifc4Writer(api, model, createGuidGenerator(GUID_SEED));
    writeBuilding(w, storeyCount);
    return fixHeaderTimestamp(api.SaveModel(model));
  } finally {
    api.CloseModel(model);
  }
}

function writeBuilding(w: Ifc4Writer, storeyCount?: number): void {
  const label = (s: string) => new IFC4.IfcLabel(s);
  const text = (s: string) => new IFC4.IfcText(s);
  const length = (v: number) => new IFC4.IfcLengthMeasure(v);
  const prop = (name: string, type: number, value: unknown): PropertyDef => ({ name, type, value });

  // --- Owner history, units, representation contexts, project -------------------------------------------------
  const org = w.add(IFCORGANIZATION, IFC4.IfcOrganization, null, label(DEMO_BIM_DESIGNER), null, null, null);
  const person = w.add(
    IFCPERSON,
    IFC4.IfcPerson,
    null,
    label("CIM Twin"),
    null,
    null,
    null,
    null,
    null,
    null,
  );
  const user = w.add(IFCPERSONANDORGANIZATION, IFC4.IfcPersonAndOrganization, person, org, null);
  const app = w.add(
    IFCAPPLICATION,
    IFC4.IfcApplication,
    org,
    label("0.1.0"),
    label("CIM Twin demo BIM generator"),
    new IFC4.IfcIdentifier("cim-twin-demo-bim"),
  );
  w.ownerHistory = w.add(
    IFCOWNERHISTORY,
    IFC4.IfcOwnerHistory,
    user,
    app,
    null,
    null,
    null,
    null,
    null,
    new IFC4.IfcTimeStamp(Date.parse(`${DEMO_BIM_TIMESTAMP}Z`) / 1000),
  );
  const oh = w.ownerHistory;

  const siUnit = (unitType: IFC4.IfcUnitEnum, name: IFC4.IfcSIUnitName) =>
    w.add(IFCSIUNIT, IFC4.IfcSIUnit, unitType, null, name);
  const units = w.add(IFCUNITASSIGNMENT, IFC4.IfcUnitAssignment, [
    siUnit(IFC4.IfcUnitEnum.LENGTHUNIT, IFC4.IfcSIUnitName.METRE),
    siUnit(IFC4.IfcUnitEnum.AREAUNIT, IFC4.IfcSIUnitName.SQUARE_METRE),
    siUnit(IFC4.IfcUnitEnum.VOLUMEUNIT, IFC4.IfcSIUnitName.CUBIC_METRE),
    siUnit(IFC4.IfcUnitEnum.PLANEANGLEUNIT, IFC4.IfcSIUnitName.RADIAN),
  ]);

  // Project coordinates: origin at the plot centre, +X east, +Y north; true north is +Y.
  const context = w.add(
    IFCGEOMETRICREPRESENTATIONCONTEXT,
    IFC4.IfcGeometricRepresentationContext,
    null,
    label("Model"),
    new IFC4.IfcDimensionCount(3),
    new IFC4.IfcReal(1e-5),
    w.placement3d(0, 0, 0),
    w.direction(0, 1),
  );
  w.bodyContext = w.add(
    IFCGEOMETRICREPRESENTATIONSUBCONTEXT,
    IFC4.IfcGeometricRepresentationSubContext,
    label("Body"),
    label("Model"),
    context,
    null,
    IFC4.IfcGeometricProjectionEnum.MODEL_VIEW,
    null,
  );
  const project = w.add(
    IFCPROJECT,
    IFC4.IfcProject,
    w.guid("project"),
    oh,
    label(DEMO_BIM_NAME),
    text("宿迁科创中心 建筑方案设计 BIM 模型（CIM Twin 演示数据）"),
    null,
    label(`${DEMO_BIM_NAME}项目`),
    label("方案设计"),
    [context],
    units,
  );

  // --- Spatial structure ----------------------------------------------------------------------------------------
  const plot = demoBimSite();
  const sitePlacement = w.localPlacement(null, 0, 0, 0);
  const site = w.add(
    IFCSITE,
    IFC4.IfcSite,
    w.guid("site"),
    oh,
    label(`${DEMO_BIM_NAME}地块`),
    text(`规划用地 ${plot.widthM} m × ${plot.depthM} m，原点位于地块中心`),
    null,
    sitePlacement,
    null,
    label("宿城区科创办公用地"),
    IFC4.IfcElementCompositionEnum.ELEMENT,
    new IFC4.IfcCompoundPlaneAngleMeasure(toCompoundPlaneAngle(plot.lat)),
    new IFC4.IfcCompoundPlaneAngleMeasure(toCompoundPlaneAngle(plot.lon)),
    length(plot.height),
    null,
    null,
  );
  const address = w.add(
    IFCPOSTALADDRESS,
    IFC4.IfcPostalAddress,
    IFC4.IfcAddressTypeEnum.SITE,
    null,
    null,
    null,
    [label("人民大道")],
    null,
    label("宿迁市"),
    label("江苏省"),
    label("223800"),
    label("中国"),
  );
  const buildingPlacement = w.localPlacement(sitePlacement, 0, 0, 0);
  const building = w.add(
    IFCBUILDING,
    IFC4.IfcBuilding,
    w.guid("building"),
    oh,
    label(DEMO_BIM_NAME),
    text("四层科创办公楼，框架结构"),
    label("办公"),
    buildingPlacement,
    null,
    label(`${DEMO_BIM_NAME}（方案）`),
    IFC4.IfcElementCompositionEnum.ELEMENT,
    length(0),
    length(0),
    address,
  );
  w.add(IFCRELAGGREGATES, IFC4.IfcRelAggregates, w.guid("project/sites"), oh, null, null, project, [site]);
  w.add(IFCRELAGGREGATES, IFC4.IfcRelAggregates, w.guid("site/buildings"), oh, null, null, site, [building]);

  const layout = demoBimLayout(storeyCount);
  const storeyRefs = new Map<StoreyPlan, { ref: Ref; placement: Ref; contents: Ref[] }>();
  for (const s of layout.storeys) {
    const placement = w.localPlacement(buildingPlacement, 0, 0, s.elevation);
    const ref = w.add(
      IFCBUILDINGSTOREY,
      IFC4.IfcBuildingStorey,
      w.guid(`storey/${s.code}`),
      oh,
      label(s.name),
      null,
      null,
      placement,
      null,
      label(s.code),
      IFC4.IfcElementCompositionEnum.ELEMENT,
      length(s.elevation),
    );
    storeyRefs.set(s, { ref, placement, contents: [] });
  }
  w.add(
    IFCRELAGGREGATES,
    IFC4.IfcRelAggregates,
    w.guid("building/storeys"),
    oh,
    null,
    null,
    building,
    [...storeyRefs.values()].map((s) => s.ref),
  );

  w.ownPset([building], "building", "Pset_BuildingCommon", [
    prop("NumberOfStoreys", IFCINTEGER, layout.storeys.length),
    prop("OccupancyType", IFCLABEL, "办公"),
    prop("GrossPlannedArea", IFCAREAMEASURE, FOOTPRINT_LENGTH * FOOTPRINT_WIDTH * layout.storeys.length),
    prop("IsLandmarked", IFCBOOLEAN, false),
  ]);
  w.ownPset([building], "building", "CIM_设计信息", [
    prop("设计单位", IFCLABEL, DEMO_BIM_DESIGNER),
    prop("设计阶段", IFCLABEL, "方案设计"),
    prop("使用年限", IFCINTEGER, 50),
    prop("结构形式", IFCLABEL, "钢筋混凝土框架结构"),
    prop("耐火等级", IFCLABEL, "一级"),
  ]);

  // --- Styles and materials -------------------------------------------------------------------------------------
  const style = (c: (typeof COLOURS)[keyof typeof COLOURS]) => {
    const colour = w.add(
      IFCCOLOURRGB,
      IFC4.IfcColourRgb,
      null,
      new IFC4.IfcNormalisedRatioMeasure(c.rgb[0]),
      new IFC4.IfcNormalisedRatioMeasure(c.rgb[1]),
      new IFC4.IfcNormalisedRatioMeasure(c.rgb[2]),
    );
    const rendering = w.add(
      IFCSURFACESTYLERENDERING,
      IFC4.IfcSurfaceStyleRendering,
      colour,
      new IFC4.IfcNormalisedRatioMeasure(c.transparency),
      null,
      null,
      null,
      null,
      null,
      null,
      IFC4.IfcReflectanceMethodEnum.NOTDEFINED,
    );
    return w.add(IFCSURFACESTYLE, IFC4.IfcSurfaceStyle, label(c.name), IFC4.IfcSurfaceSide.BOTH, [rendering]);
  };
  const styles = {
    wall: style(COLOURS.wall),
    slab: style(COLOURS.slab),
    window: style(COLOURS.window),
    door: style(COLOURS.door),
    space: style(COLOURS.space),
  };
  const materialUsers = new Map<string, Ref[]>();
  const useMaterial = (name: string, object: Ref) => {
    const list = materialUsers.get(name) ?? [];
    list.push(object);
    materialUsers.set(name, list);
  };

  // --- Walls, with openings filled by windows and doors ---------------------------------------------------------
  for (const wall of layout.walls) {
    const storey = storeyRefs.get(wall.storey)!;
    const ref = writeWall(w, wall, storey.placement, styles, useMaterial);
    storey.contents.push(ref.wall, ...ref.inserts);
  }

  // --- Slabs ----------------------------------------------------------------------------------------------------
  for (const slab of layout.slabs) {
    const storey = storeyRefs.get(slab.storey)!;
    storey.contents.push(writeSlab(w, slab, storey.placement, styles.slab, useMaterial));
  }

  // --- Spaces ---------------------------------------------------------------------------------------------------
  const spacesByStorey = new Map<StoreyPlan, Ref[]>();
  for (const space of layout.spaces) {
    const storey = storeyRefs.get(space.storey)!;
    const ref = writeSpace(w, space, storey.placement, styles.space);
    spacesByStorey.set(space.storey, [...(spacesByStorey.get(space.storey) ?? []), ref]);
  }

  // --- Spatial containment / decomposition of each storey -------------------------------------------------------
  for (const [plan, storey] of storeyRefs) {
    w.add(
      IFCRELCONTAINEDINSPATIALSTRUCTURE,
      IFC4.IfcRelContainedInSpatialStructure,
      w.guid(`storey/${plan.code}/contains`),
      oh,
      label(`${plan.name}构件`),
      null,
      storey.contents,
      storey.ref,
    );
    w.add(
      IFCRELAGGREGATES,
      IFC4.IfcRelAggregates,
      w.guid(`storey/${plan.code}/spaces`),
      oh,
      label(`${plan.name}房间`),
      null,
      storey.ref,
      spacesByStorey.get(plan) ?? [],
    );
  }

  for (const [name, objects] of materialUsers) {
    const material = w.add(IFCMATERIAL, IFC4.IfcMaterial, label(name), null, null);
    w.add(
      IFCRELASSOCIATESMATERIAL,
      IFC4.IfcRelAssociatesMaterial,
      w.guid(`material/${name}`),
      oh,
      null,
      null,
      objects,
      material,
    );
  }
  w.flushSharedPsets();
}

type Styles = Record<"wall" | "slab" | "window" | "door" | "space", Ref>;

function writeWall(
  w: Ifc4Writer,
  wall: WallPlan,
  storeyPlacement: Ref,
  styles: Styles,
  useMaterial: (name: string, object: Ref) => void,
): { wall: Ref; inserts: Ref[] } {
  const placement = w.localPlacement(storeyPlacement, wall.start[0], wall.start[1], 0, wall.dir);
  const shape = w.boxShape(
    { x0: 0, dx: wall.length, yc: 0, dy: wall.thickness, z0: 0, dz: wall.height },
    styles.wall,
  );
  const ref = w.add(
    IFCWALL,
    IFC4.IfcWall,
    w.guid(wall.key),
    w.ownerHistory,
    new IFC4.IfcLabel(wall.name),
    null,
    new IFC4.IfcLabel(`${wall.external ? "外墙" : "内墙"} ${Math.round(wall.thickness * 1000)}mm`),
    placement,
    shape,
    new IFC4.IfcIdentifier(wall.key),
    wall.external || wall.loadBearing ? IFC4.IfcWallTypeEnum.SOLIDWALL : IFC4.IfcWallTypeEnum.PARTITIONING,
  );
  useMaterial(wall.loadBearing ? "钢筋混凝土" : "加气混凝土砌块", ref);
  const props: PropertyDef[] = [
    {
      name: "Reference",
      type: IFCIDENTIFIER,
      value: `${wall.external ? "外墙" : "内墙"}-${Math.round(wall.thickness * 1000)}`,
    },
    { name: "IsExternal", type: IFCBOOLEAN, value: wall.external },
    { name: "LoadBearing", type: IFCBOOLEAN, value: wall.loadBearing },
    { name: "FireRating", type: IFCLABEL, value: wall.fireRating },
  ];
  if (wall.external)
    props.push({ name: "ThermalTransmittance", type: IFCTHERMALTRANSMITTANCEMEASURE, value: 0.5 });
  w.sharedPset(ref, wall.key, "Pset_WallCommon", props);

  const inserts: Ref[] = [];
  let openingVolume = 0;
  for (const insert of wall.inserts) {
    inserts.push(writeInsert(w, wall, insert, ref, placement, styles, useMaterial));
    openingVolume += insert.width * insert.height * wall.thickness;
  }
  const gross = wall.length * wall.height * wall.thickness;
  w.quantities([ref], wall.key, "Qto_WallBaseQuantities", [
    { kind: "length", name: "Length", value: wall.length },
    { kind: "length", name: "Height", value: wall.height },
    { kind: "length", name: "Width", value: wall.thickness },
    { kind: "volume", name: "GrossVolume", value: gross },
    { kind: "volume", name: "NetVolume", value: gross - openingVolume },
  ]);
  return { wall: ref, inserts };
}

/** An IfcOpeningElement voiding the wall, filled by an IfcWindow or IfcDoor (a thin box centred in the wall). */
function writeInsert(
  w: Ifc4Writer,
  wall: WallPlan,
  insert: InsertPlan,
  wallRef: Ref,
  wallPlacement: Ref,
  styles: Styles,
  useMaterial: (name: string, object: Ref) => void,
): Ref {
  const oh = w.ownerHistory;
  const label = (s: string) => new IFC4.IfcLabel(s);
  // Openings cut a little deeper than the wall (and below a door's threshold) so the boolean is clean.
  const below = insert.kind === "door" ? 0.05 : 0;
  const openingPlacement = w.localPlacement(wallPlacement, insert.offset, 0, insert.sill);
  const opening = w.add(
    IFCOPENINGELEMENT,
    IFC4.IfcOpeningElement,
    w.guid(`${insert.key}/opening`),
    oh,
    label(`${insert.name}洞口`),
    null,
    null,
    openingPlacement,
    w.boxShape(
      { x0: 0, dx: insert.width, yc: 0, dy: wall.thickness + 0.2, z0: -below, dz: insert.height + below },
      null,
    ),
    null,
    IFC4.IfcOpeningElementTypeEnum.OPENING,
  );
  w.add(
    IFCRELVOIDSELEMENT,
    IFC4.IfcRelVoidsElement,
    w.guid(`${insert.key}/voids`),
    oh,
    null,
    null,
    wallRef,
    opening,
  );

  const placement = w.localPlacement(openingPlacement, 0, 0, 0);
  const panel = insert.kind === "window" ? 0.08 : 0.05;
  const shape = w.boxShape(
    { x0: 0, dx: insert.width, yc: 0, dy: panel, z0: 0, dz: insert.height },
    insert.kind === "window" ? styles.window : styles.door,
  );
  const overallHeight = new IFC4.IfcPositiveLengthMeasure(insert.height);
  const overallWidth = new IFC4.IfcPositiveLengthMeasure(insert.width);
  let ref: Ref;
  if (insert.kind === "window") {
    ref = w.add(
      IFCWINDOW,
      IFC4.IfcWindow,
      w.guid(insert.key),
      oh,
      label(insert.name),
      null,
      label(insert.code),
      placement,
      shape,
      new IFC4.IfcIdentifier(insert.code),
      overallHeight,
      overallWidth,
      IFC4.IfcWindowTypeEnum.WINDOW,
      IFC4.IfcWindowTypePartitioningEnum.SINGLE_PANEL,
      null,
    );
    useMaterial("中空玻璃", ref);
    w.sharedPset(ref, insert.key, "Pset_WindowCommon", [
      { name: "Reference", type: IFCIDENTIFIER, value: insert.code },
      { name: "IsExternal", type: IFCBOOLEAN, value: true },
      { name: "ThermalTransmittance", type: IFCTHERMALTRANSMITTANCEMEASURE, value: 2.2 },
      { name: "GlazingAreaFraction", type: IFCNORMALISEDRATIOMEASURE, value: 0.85 },
    ]);
  } else {
    ref = w.add(
      IFCDOOR,
      IFC4.IfcDoor,
      w.guid(insert.key),
      oh,
      label(insert.name),
      null,
      label(insert.code),
      placement,
      shape,
      new IFC4.IfcIdentifier(insert.code),
      overallHeight,
      overallWidth,
      IFC4.IfcDoorTypeEnum.DOOR,
      insert.operation === "DOUBLE_DOOR_DOUBLE_SWING"
        ? IFC4.IfcDoorTypeOperationEnum.DOUBLE_DOOR_DOUBLE_SWING
        : IFC4.IfcDoorTypeOperationEnum.SINGLE_SWING_LEFT,
      null,
    );
    useMaterial(insert.external ? "铝合金玻璃门" : "木质门", ref);
    w.sharedPset(ref, insert.key, "Pset_DoorCommon", [
      { name: "Reference", type: IFCIDENTIFIER, value: insert.code },
      { name: "IsExternal", type: IFCBOOLEAN, value: insert.external },
      { name: "FireRating", type: IFCLABEL, value: insert.fireRating ?? "" },
    ]);
  }
  w.add(
    IFCRELFILLSELEMENT,
    IFC4.IfcRelFillsElement,
    w.guid(`${insert.key}/fills`),
    oh,
    null,
    null,
    opening,
    ref,
  );
  return ref;
}

function writeSlab(
  w: Ifc4Writer,
  slab: SlabPlan,
  storeyPlacement: Ref,
  style: Ref,
  useMaterial: (name: string, object: Ref) => void,
): Ref {
  const placement = w.localPlacement(storeyPlacement, 0, 0, slab.z);
  const shape = w.boxShape(
    {
      x0: -FOOTPRINT_LENGTH / 2,
      dx: FOOTPRINT_LENGTH,
      yc: 0,
      dy: FOOTPRINT_WIDTH,
      z0: 0,
      dz: slab.thickness,
    },
    style,
  );
  const ref = w.add(
    IFCSLAB,
    IFC4.IfcSlab,
    w.guid(slab.key),
    w.ownerHistory,
    new IFC4.IfcLabel(slab.name),
    null,
    new IFC4.IfcLabel(`${slab.type === "ROOF" ? "屋面板" : "楼板"} ${Math.round(slab.thickness * 1000)}mm`),
    placement,
    shape,
    new IFC4.IfcIdentifier(slab.key),
    slab.type === "ROOF" ? IFC4.IfcSlabTypeEnum.ROOF : IFC4.IfcSlabTypeEnum.FLOOR,
  );
  useMaterial("钢筋混凝土", ref);
  w.sharedPset(ref, slab.key, "Pset_SlabCommon", [
    { name: "IsExternal", type: IFCBOOLEAN, value: slab.external },
    { name: "LoadBearing", type: IFCBOOLEAN, value: true },
  ]);
  const area = FOOTPRINT_LENGTH * FOOTPRINT_WIDTH;
  w.quantities([ref], slab.key, "Qto_SlabBaseQuantities", [
    { kind: "length", name: "Width", value: slab.thickness },
    { kind: "area", name: "NetArea", value: area },
    { kind: "volume", name: "NetVolume", value: area * slab.thickness },
  ]);
  return ref;
}

function writeSpace(w: Ifc4Writer, space: SpacePlan, storeyPlacement: Ref, style: Ref): Ref {
  const dx = space.x1 - space.x0;
  const dy = space.y1 - space.y0;
  const placement = w.localPlacement(storeyPlacement, 0, 0, 0);
  const shape = w.boxShape(
    { x0: space.x0, dx, yc: (space.y0 + space.y1) / 2, dy, z0: 0, dz: space.height },
    style,
  );
  const ref = w.add(
    IFCSPACE,
    IFC4.IfcSpace,
    w.guid(space.key),
    w.ownerHistory,
    new IFC4.IfcLabel(space.name),
    null,
    null,
    placement,
    shape,
    new IFC4.IfcLabel(space.longName),
    IFC4.IfcElementCompositionEnum.ELEMENT,
    IFC4.IfcSpaceTypeEnum.SPACE,
    null,
  );
  const area = dx * dy;
  w.ownPset([ref], space.key, "Pset_SpaceCommon", [
    { name: "Reference", type: IFCIDENTIFIER, value: space.reference },
    { name: "IsExternal", type: IFCBOOLEAN, value: false },
    { name: "PubliclyAccessible", type: IFCBOOLEAN, value: space.publiclyAccessible },
    { name: "NetPlannedArea", type: IFCAREAMEASURE, value: round2(area) },
  ]);
  w.quantities([ref], space.key, "Qto_SpaceBaseQuantities", [
    { kind: "length", name: "Height", value: space.height },
    { kind: "area", name: "NetFloorArea", value: area },
    { kind: "volume", name: "NetVolume", value: area * space.height },
  ]);
  return ref;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** web-ifc stamps FILE_NAME with the wall clock; replace it by {@link DEMO_BIM_TIMESTAMP} for reproducible bytes. */
function fixHeaderTimestamp(bytes: Uint8Array): Uint8Array {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  const match = /FILE_NAME\('[^']*','(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)'/.exec(head);
  if (!match) throw new Error("IFC header has no FILE_NAME time stamp");
  const at = match.index + match[0].length - 1 - match[1].length;
  const out = bytes.slice();
  out.set(new TextEncoder().encode(DEMO_BIM_TIMESTAMP), at);
  return out;
}
