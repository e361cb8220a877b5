/**
 * The OTLP logs messages, declared from the field numbers of the opentelemetry-proto
 * definitions (`collector/logs/v1`, `logs/v1`, `common/v1`, `resource/v1`), plus
 * `google.rpc.Status` and `google.rpc.BadRequest` for error bodies. protobufjs bounds nesting
 * at 100 message levels when decoding.
 */
import protobuf from 'protobufjs/light.js';

const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const field = (type: string, id: number) => ({ type, id });

const root = protobuf.Root.fromJSON({
  nested: {
    AnyValue: {
      oneofs: {
        value: {
          oneof: [
            'stringValue',
            'boolValue',
            'intValue',
            'doubleValue',
            'arrayValue',
            'kvlistValue',
            'bytesValue',
          ],
        },
      },
      fields: {
        stringValue: field('string', 1),
        boolValue: field('bool', 2),
        intValue: field('int64', 3),
        doubleValue: field('double', 4),
        arrayValue: field('ArrayValue', 5),
        kvlistValue: field('KeyValueList', 6),
        bytesValue: field('bytes', 7),
      },
    },
    ArrayValue: { fields: { values: repeated('AnyValue', 1) } },
    KeyValueList: { fields: { values: repeated('KeyValue', 1) } },
    KeyValue: { fields: { key: field('string', 1), value: field('AnyValue', 2) } },
    InstrumentationScope: {
      fields: {
        name: field('string', 1),
        version: field('string', 2),
        attributes: repeated('KeyValue', 3),
        droppedAttributesCount: field('uint32', 4),
      },
    },
    Resource: {
      fields: { attributes: repeated('KeyValue', 1), droppedAttributesCount: field('uint32', 2) },
    },
    LogRecord: {
      fields: {
        timeUnixNano: field('fixed64', 1),
        // An enum on the wire is a varint; the integer is what the mapping needs.
        severityNumber: field('int32', 2),
        severityText: field('string', 3),
        body: field('AnyValue', 5),
        attributes: repeated('KeyValue', 6),
        droppedAttributesCount: field('uint32', 7),
        flags: field('fixed32', 8),
        traceId: field('bytes', 9),
        spanId: field('bytes', 10),
        observedTimeUnixNano: field('fixed64', 11),
        eventName: field('string', 12),
      },
    },
    ScopeLogs: {
      fields: {
        scope: field('InstrumentationScope', 1),
        logRecords: repeated('LogRecord', 2),
        schemaUrl: field('string', 3),
      },
    },
    ResourceLogs: {
      fields: {
        resource: field('Resource', 1),
        scopeLogs: repeated('ScopeLogs', 2),
        schemaUrl: field('string', 3),
      },
    },
    ExportLogsServiceRequest: { fields: { resourceLogs: repeated('ResourceLogs', 1) } },
    ExportLogsPartialSuccess: {
      fields: { rejectedLogRecords: field('int64', 1), errorMessage: field('string', 2) },
    },
    ExportLogsServiceResponse: { fields: { partialSuccess: field('ExportLogsPartialSuccess', 1) } },
    // google.protobuf.Any, google.rpc.Status and google.rpc.BadRequest, for error bodies.
    Any: { fields: { typeUrl: field('string', 1), value: field('bytes', 2) } },
    Status: {
      fields: { code: field('int32', 1), message: field('string', 2), details: repeated('Any', 3) },
    },
    FieldViolation: { fields: { field: field('string', 1), description: field('string', 2) } },
    BadRequest: { fields: { fieldViolations: repeated('FieldViolation', 1) } },
  },
});

export const ExportLogsServiceRequest = root.lookupType('ExportLogsServiceRequest');
export const ExportLogsServiceResponse = root.lookupType('ExportLogsServiceResponse');
export const Status = root.lookupType('Status');
export const BadRequest = root.lookupType('BadRequest');
