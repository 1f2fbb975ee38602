import {
  Handle,
  IFC4,
  IFCAXIS2PLACEMENT2D,
  IFCAXIS2PLACEMENT3D,
  IFCCARTESIANPOINT,
  IFCDIRECTION,
  IFCELEMENTQUANTITY,
  IFCEXTRUDEDAREASOLID,
  IFCGLOBALLYUNIQUEID,
  IFCLOCALPLACEMENT,
  IFCPRODUCTDEFINITIONSHAPE,
  IFCPROPERTYSET,
  IFCPROPERTYSINGLEVALUE,
  IFCQUANTITYAREA,
  IFCQUANTITYLENGTH,
  IFCQUANTITYVOLUME,
  IFCRECTANGLEPROFILEDEF,
  IFCRELDEFINESBYPROPERTIES,
  IFCSHAPEREPRESENTATION,
  IFCSTYLEDITEM,
  type IfcAPI,
  type IfcLineObject,
} from "web-ifc";

// biome-ignore lint/suspicious/noExplicitAny: constructor parameter lists of web-ifc's schema classes vary
type LineClass = abstract new (...args: any) => IfcLineObject;

/** A reference to a line already written to the model (`#id` in the STEP file). */
export type Ref = Handle<unknown>;

export interface PropertyDef {
  name: string;
  /** web-ifc type code of the IFC defined type, e.g. IFCBOOLEAN, IFCLABEL, IFCTHERMALTRANSMITTANCEMEASURE. */
  type: number;
  value: unknown;
}

export type QuantityDef =
  | { kind: "length"; name: string; value: number }
  | { kind: "area"; name: string; value: number }
  | { kind: "volume"; name: string; value: number };

/** An axis-aligned box in a local frame: x from x0 (length dx), y centred on yc (width dy), z from z0 (height dz). */
export interface Box {
  x0: number;
  dx: number;
  yc: number;
  dy: number;
  z0: number;
  dz: number;
}

/**
 * Thin typed layer over web-ifc's model-writing API for one IFC4 model: every entity is built with
 * `IfcAPI.CreateIfcEntity` (checked against its schema class, so the argument list is type-checked) and written
 * with `IfcAPI.WriteLine`; callers hold `Handle`s (STEP `#id` references) to what was written.
 */
export class Ifc4Writer {
  private readonly points = new Map<string, Ref>();
  private readonly directions = new Map<string, Ref>();
  private readonly placements = new Map<string, Ref>();
  private readonly sharedPsets = new Map<string, { pset: Ref; objects: Ref[]; key: string }>();

  constructor(
    readonly api: IfcAPI,
    readonly model: number,
    /** Deterministic GlobalId for a stable key (see guid.ts). */
    private readonly guidFor: (key: string) => string,
    /** Representation context that every body shape belongs to. */
    public bodyContext: Ref | null = null,
    public ownerHistory: Ref | null = null,
  ) {}

  /** Creates an entity through the API, checks that the type code matches `cls`, writes it, returns its handle. */
  add<C extends LineClass>(type: number, cls: C, ...args: ConstructorParameters<C>): Ref {
    const line = this.api.CreateIfcEntity(this.model, type, ...args);
    if (!(line instanceof cls)) throw new Error(`type code ${type} does not build a ${cls.name}`);
    this.api.WriteLine(this.model, line);
    return new Handle(line.expressID);
  }

  /** An IfcGloballyUniqueId for the entity with this stable key. */
  guid(key: string): IFC4.IfcGloballyUniqueId {
    return this.api.CreateIfcType(this.model, IFCGLOBALLYUNIQUEID, this.guidFor(key));
  }

  /** IFC defined-type value, e.g. `value(IFCBOOLEAN, true)` -> IFCBOOLEAN(.T.). */
  value(type: number, v: unknown): IFC4.IfcValue {
    return this.api.CreateIfcType(this.model, type, v);
  }

  /** An IfcCartesianPoint; identical points are written once and shared. */
  point(...coords: number[]): Ref {
    const key = coords.map(clean).join(",");
    let ref = this.points.get(key);
    if (!ref) {
      ref = this.add(
        IFCCARTESIANPOINT,
        IFC4.IfcCartesianPoint,
        coords.map((c) => new IFC4.IfcLengthMeasure(clean(c))),
      );
      this.points.set(key, ref);
    }
    return ref;
  }

  /** An IfcDirection; identical directions are written once and shared. */
  direction(...ratios: number[]): Ref {
    const key = ratios.map(clean).join(",");
    let ref = this.directions.get(key);
    if (!ref) {
      ref = this.add(
        IFCDIRECTION,
        IFC4.IfcDirection,
        ratios.map((r) => new IFC4.IfcReal(clean(r))),
      );
      this.directions.set(key, ref);
    }
    return ref;
  }

  /** IfcAxis2Placement3D at (x, y, z), Z up, local X along `xDir` (omitted when it is +X); shared when equal. */
  placement3d(x: number, y: number, z: number, xDir: [number, number] = [1, 0]): Ref {
    const isDefaultX = xDir[0] === 1 && xDir[1] === 0;
    const key = [x, y, z, ...xDir].map(clean).join(",");
    let ref = this.placements.get(key);
    if (!ref) {
      ref = this.add(
        IFCAXIS2PLACEMENT3D,
        IFC4.IfcAxis2Placement3D,
        this.point(x, y, z),
        isDefaultX ? null : this.direction(0, 0, 1),
        isDefaultX ? null : this.direction(xDir[0], xDir[1], 0),
      );
      this.placements.set(key, ref);
    }
    return ref;
  }

  /** IfcLocalPlacement relative to `relTo` (null: absolute). */
  localPlacement(relTo: Ref | null, x: number, y: number, z: number, xDir?: [number, number]): Ref {
    return this.add(IFCLOCALPLACEMENT, IFC4.IfcLocalPlacement, relTo, this.placement3d(x, y, z, xDir));
  }

  /**
   * A box body: IfcRectangleProfileDef (dx by dy, centred at (x0 + dx/2, yc)) swept by IfcExtrudedAreaSolid
   * along +Z for dz from z0, wrapped in a 'Body'/'SweptSolid' IfcShapeRepresentation and an
   * IfcProductDefinitionShape; `style` (an IfcSurfaceStyle) is attached to the solid with an IfcStyledItem.
   */
  boxShape(box: Box, style: Ref | null): Ref {
    const profile = this.add(
      IFCRECTANGLEPROFILEDEF,
      IFC4.IfcRectangleProfileDef,
      IFC4.IfcProfileTypeEnum.AREA,
      null,
      this.add(IFCAXIS2PLACEMENT2D, IFC4.IfcAxis2Placement2D, this.point(box.x0 + box.dx / 2, box.yc), null),
      new IFC4.IfcPositiveLengthMeasure(clean(box.dx)),
      new IFC4.IfcPositiveLengthMeasure(clean(box.dy)),
    );
    const solid = this.add(
      IFCEXTRUDEDAREASOLID,
      IFC4.IfcExtrudedAreaSolid,
      profile,
      this.placement3d(0, 0, box.z0),
      this.direction(0, 0, 1),
      new IFC4.IfcPositiveLengthMeasure(clean(box.dz)),
    );
    if (style) this.add(IFCSTYLEDITEM, IFC4.IfcStyledItem, solid, [style], null);
    if (!this.bodyContext) throw new Error("bodyContext must be set before writing shapes");
    const rep = this.add(
      IFCSHAPEREPRESENTATION,
      IFC4.IfcShapeRepresentation,
      this.bodyContext,
      new IFC4.IfcLabel("Body"),
      new IFC4.IfcLabel("SweptSolid"),
      [solid],
    );
    return this.add(IFCPRODUCTDEFINITIONSHAPE, IFC4.IfcProductDefinitionShape, null, null, [rep]);
  }

  /**
   * Attaches a property set to `object`. Property sets with identical content (same name and values) are written
   * once and shared by one IfcRelDefinesByProperties per set, as authoring tools do; call {@link flushSharedPsets}
   * after the last object.
   */
  sharedPset(object: Ref, key: string, name: string, props: PropertyDef[]): void {
    const signature = JSON.stringify([name, props]);
    let entry = this.sharedPsets.get(signature);
    if (!entry) {
      entry = { pset: this.pset(key, name, props), objects: [], key: `${key}/${name}/rel` };
      this.sharedPsets.set(signature, entry);
    }
    entry.objects.push(object);
  }

  /** Writes the IfcRelDefinesByProperties of the shared property sets. */
  flushSharedPsets(): void {
    for (const { pset, objects, key } of this.sharedPsets.values())
      this.definesByProperties(key, objects, pset);
    this.sharedPsets.clear();
  }

  /** A property set owned by the given objects alone. */
  ownPset(objects: Ref[], key: string, name: string, props: PropertyDef[]): Ref {
    const pset = this.pset(key, name, props);
    this.definesByProperties(`${key}/${name}/rel`, objects, pset);
    return pset;
  }

  /** An IfcElementQuantity (e.g. Qto_WallBaseQuantities) for the given objects. */
  quantities(objects: Ref[], key: string, name: string, quantities: QuantityDef[]): Ref {
    const items = quantities.map((q) => {
      const args = [new IFC4.IfcLabel(q.name), null, null] as const;
      const v = clean(q.value);
      if (q.kind === "length") {
        return this.add(
          IFCQUANTITYLENGTH,
          IFC4.IfcQuantityLength,
          ...args,
          new IFC4.IfcLengthMeasure(v),
          null,
        );
      }
      if (q.kind === "area") {
        return this.add(IFCQUANTITYAREA, IFC4.IfcQuantityArea, ...args, new IFC4.IfcAreaMeasure(v), null);
      }
      return this.add(IFCQUANTITYVOLUME, IFC4.IfcQuantityVolume, ...args, new IFC4.IfcVolumeMeasure(v), null);
    });
    const qto = this.add(
      IFCELEMENTQUANTITY,
      IFC4.IfcElementQuantity,
      this.guid(`${key}/${name}`),
      this.ownerHistory,
      new IFC4.IfcLabel(name),
      null,
      null,
      items,
    );
    this.definesByProperties(`${key}/${name}/rel`, objects, qto);
    return qto;
  }

  private pset(key: string, name: string, props: PropertyDef[]): Ref {
    const properties = props.map((p) =>
      this.add(
        IFCPROPERTYSINGLEVALUE,
        IFC4.IfcPropertySingleValue,
        new IFC4.IfcIdentifier(p.name),
        null,
        this.value(p.type, p.value),
        null,
      ),
    );
    return this.add(
      IFCPROPERTYSET,
      IFC4.IfcPropertySet,
      this.guid(`${key}/${name}`),
      this.ownerHistory,
      new IFC4.IfcLabel(name),
      null,
      properties,
    );
  }

  private definesByProperties(relKey: string, objects: Ref[], definition: Ref): void {
    this.add(
      IFCRELDEFINESBYPROPERTIES,
      IFC4.IfcRelDefinesByProperties,
      this.guid(relKey),
      this.ownerHistory,
      null,
      null,
      objects,
      definition,
    );
  }
}

/** Rounds away float noise (0.30000000000000004 -> 0.3) so the STEP text is short and stable. */
export function clean(v: number): number {
  const r = Math.round(v * 1e9) / 1e9;
  return Object.is(r, -0) ? 0 : r;
}
