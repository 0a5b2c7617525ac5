declare module 'parse-prometheus-text-format' {
  /** One family, as the parser reads it: `type` upper case, values as strings. */
  interface ParsedFamily {
    name: string;
    help: string;
    type: string;
    metrics: { value?: string; labels?: Record<string, string> }[];
  }

  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
