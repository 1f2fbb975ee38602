// Types for the Khronos gltf-validator npm package, which ships none. Only what the checker uses.
declare module "gltf-validator" {
  export interface ValidationMessage {
    code: string;
    message: string;
    /** 0 error, 1 warning, 2 info, 3 hint. */
    severity: 0 | 1 | 2 | 3;
    pointer?: string;
    offset?: number;
  }

  export interface ValidationReport {
    uri?: string;
    mimeType?: string;
    validatorVersion: string;
    issues: {
      numErrors: number;
      numWarnings: number;
      numInfos: number;
      numHints: number;
      messages: ValidationMessage[];
      truncated: boolean;
    };
  }

  export interface ValidationOptions {
    uri?: string;
    format?: "glb" | "gltf";
    externalResourceFunction?: (uri: string) => Promise<Uint8Array>;
    writeTimestamp?: boolean;
    maxIssues?: number;
    ignoredIssues?: string[];
    onlyIssues?: string[];
    severityOverrides?: Record<string, number>;
  }

  const validator: {
    version(): string;
    supportedExtensions(): string[];
    validateBytes(data: Uint8Array, options?: ValidationOptions): Promise<ValidationReport>;
    validateString(json: string, options?: ValidationOptions): Promise<ValidationReport>;
  };
  export default validator;
}
