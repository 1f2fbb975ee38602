import type { Device } from "../../../models/devices.ts";

/** Who is looking: the leadership sees everything, a department its own devices, the public shared data only. */
export type Role = "leader" | "department" | "public";

export interface Audience {
  role: Role;
  /** For `department`: the owner department (权属部门) named by `?dept=`; all departments when absent. */
  department: string | undefined;
}

/** `?role=leader|department|public` (default leader) and `?dept=` from the page URL. */
export function audienceFromUrl(search = location.search): Audience {
  const q = new URLSearchParams(search);
  const role = q.get("role");
  return {
    role: role === "public" || role === "department" ? role : "leader",
    department: q.get("dept") ?? undefined,
  };
}

/**
 * Whether a device is shown: the public sees devices whose data is shared unconditionally (政务数据共享
 * 无条件共享), a department its own devices.
 */
export function deviceVisible(audience: Audience, device: Pick<Device, "sharing" | "department">): boolean {
  if (audience.role === "public") return device.sharing === "unconditional";
  if (audience.role === "department" && audience.department) return device.department === audience.department;
  return true;
}

/** Only leaders and departments dispatch alarms. */
export function canDispatch(audience: Audience): boolean {
  return audience.role !== "public";
}

/** The devices the KPI figures count for an audience (the same rule as `deviceVisible`, applied by the server). */
export function summaryScope(audience: Audience): { department?: string; sharing?: "unconditional" } {
  if (audience.role === "public") return { sharing: "unconditional" };
  if (audience.role === "department" && audience.department) return { department: audience.department };
  return {};
}
