import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IfcModelReader } from "../../ingest/ifc/ifc-model-reader.ts";
import { StepEntities, StepEnum, StepRef, StepTyped, stepIfcValue } from "../../ingest/ifc/step-entities.ts";
import { precheckStep } from "../../ingest/ifc/step-precheck.ts";
import { loadWebIfc } from "../../ingest/ifc/web-ifc-runtime.ts";
import { generateDemoBimIfc } from "../../ingest/synthetic/demo-bim.ts";
import { describeWithSharedData, sharedPath } from "../support/shared-data.ts";

const WebIFC = loadWebIfc();

function index(text: string): StepEntities {
  const bytes = new TextEncoder().encode(text);
  const statements = precheckStep(bytes);
  return new StepEntities(bytes, statements.starts, statements.count);
}

const file = (data: string) =>
  `ISO-10303-21;\nHEADER;FILE_SCHEMA(('IFC4'));ENDSEC;\nDATA;\n${data}\nENDSEC;\nEND-ISO-10303-21;\n`;

describe("STEP entity index", () => {
  it("reads references, enums, typed values, nested lists, numbers and unset values", () => {
    const step = index(
      file(
        "#7= IFCPROPERTYSINGLEVALUE('Width',$,IFCPOSITIVELENGTHMEASURE(1.5E-1),#12);\n" +
          "#8=IFCRELAGGREGATES('g',*,$,$,#1,(#2,#3, #4));\n" +
          "#9=IFCPROPERTYSINGLEVALUE('Ext',$,IFCBOOLEAN(.T.),$);\n" +
          "#10=IFCCARTESIANPOINT((0.,-2.5,3.));",
      ),
    );
    expect(step.type(7)).toBe("IFCPROPERTYSINGLEVALUE");
    const a = step.args(7)!;
    expect(a[0]).toBe("Width");
    expect(a[1]).toBeNull();
    expect(a[2]).toEqual(new StepTyped("IFCPOSITIVELENGTHMEASURE", 0.15));
    expect(a[3]).toEqual(new StepRef(12));
    expect(step.args(8)![4]).toEqual(new StepRef(1));
    expect(step.args(8)![5]).toEqual([new StepRef(2), new StepRef(3), new StepRef(4)]);
    expect(step.args(9)![2]).toEqual(new StepTyped("IFCBOOLEAN", new StepEnum("T")));
    expect(step.args(10)![0]).toEqual([0, -2.5, 3]);
  });

  it("decodes string escapes as web-ifc does", () => {
    const step = index(
      file(
        "#1=IFCLABEL('it''s');\n" +
          "#2=IFCLABEL('Gesch\\X2\\00FC\\X0\\tzt');\n" +
          "#3=IFCLABEL('\\X2\\529E516C\\X0\\ \\X\\E4 \\S\\D');\n" +
          "#4=IFCLABEL('\\X4\\0001F600\\X0\\');\n" +
          "#5=IFCLABEL('a\\\\b');\n" +
          "#6=IFCLABEL('\u529e\u516c');",
      ),
    );
    expect(step.args(1)![0]).toBe("it's");
    expect(step.args(2)![0]).toBe("Geschützt");
    expect(step.args(3)![0]).toBe("办公 ä Ä");
    expect(step.args(4)![0]).toBe("😀");
    expect(step.args(5)![0]).toBe("a\\b");
    expect(step.args(6)![0]).toBe("办公");
  });

  it("leaves complex instances to web-ifc", () => {
    const step = index(file("#1=(IFCA(1)IFCB(2));\n#2=IFCWALL('x');"));
    expect(step.args(1)).toBeUndefined();
    expect(step.args(2)).toEqual(["x"]);
  });

  it("types property values like ifcValue() types web-ifc's", () => {
    expect(stepIfcValue(new StepTyped("IFCBOOLEAN", new StepEnum("F")))).toBe(false);
    expect(stepIfcValue(new StepTyped("IFCLOGICAL", new StepEnum("U")))).toBe("UNKNOWN");
    expect(stepIfcValue(new StepTyped("IFCREAL", 4))).toBe(4);
    expect(stepIfcValue(new StepTyped("IFCLABEL", ""))).toBe("");
    expect(stepIfcValue(null)).toBeNull();
  });
});

/**
 * The index replaces web-ifc's GetLine for relations, property sets and product attributes: every product of the
 * real models must come out the same both ways (names, storeys, every property and quantity, typed).
 */
describeWithSharedData("STEP index against web-ifc's GetLine on real models", () => {
  const api = new WebIFC.IfcAPI();
  beforeAll(async () => {
    await api.Init();
    api.SetLogLevel(WebIFC.LogLevel.LOG_LEVEL_OFF);
  });
  afterAll(() => api.Dispose());

  it.each(["ifc/AC20-FZK-Haus.ifc", "ifc/IfcOpenHouse_IFC4.ifc", "ifc/example.ifc", "demo-bim"])(
    "%s: every product's attributes and properties are equal",
    async (name) => {
      const bytes =
        name === "demo-bim" ? await generateDemoBimIfc() : new Uint8Array(await readFile(sharedPath(name)));
      const statements = precheckStep(bytes);
      const step = new StepEntities(bytes, statements.starts, statements.count);
      const model = api.OpenModel(bytes, { COORDINATE_TO_ORIGIN: false });
      try {
        const fromStep = new IfcModelReader(api, model, step);
        const fromLines = new IfcModelReader(api, model);
        const info = fromStep.readInfo(true);
        expect(fromLines.readInfo(true)).toEqual(info);
        let withProperties = 0;
        for (const id of info.productIds) {
          const a = fromStep.extract(id);
          const b = fromLines.extract(id);
          expect(a === null).toBe(b === null);
          if (!a || !b) continue;
          const { parts: _pa, ...attrsA } = a;
          const { parts: _pb, ...attrsB } = b;
          expect(attrsA, `#${id}`).toEqual(attrsB);
          if (Object.keys(a.properties).length > 0) withProperties++;
        }
        if (name !== "ifc/IfcOpenHouse_IFC4.ifc") expect(withProperties).toBeGreaterThan(0);
      } finally {
        api.CloseModel(model);
      }
    },
    120_000,
  );
});
