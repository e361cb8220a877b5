// Responses: what a receiver writes (a partial success, a google.rpc.Status) is what an
// exporter reads back — ours, and the OpenTelemetry JS exporter's deserializer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import {
  decodeOtlpPartialSuccess,
  encodeOtlpResponse,
  encodeOtlpStatus,
  type OtlpEncoding,
} from '../src/index.js';

const encodings: readonly OtlpEncoding[] = ['protobuf', 'json'];
const bytes = (body: Uint8Array | string) => (typeof body === 'string' ? Buffer.from(body) : body);

describe('OTLP responses', () => {
  it('reads back the partial success it writes, and nothing from a full success', () => {
    for (const encoding of encodings) {
      const partial = bytes(encodeOtlpResponse(encoding, 2, ['too big', 'too old']));
      assert.deepEqual(decodeOtlpPartialSuccess(partial, encoding), {
        rejectedLogRecords: 2,
        errorMessage: '2 log record(s) rejected: too big; too old',
      });
      const full = bytes(encodeOtlpResponse(encoding, 0, []));
      assert.equal(decodeOtlpPartialSuccess(full, encoding), undefined);
    }
    assert.equal(encodeOtlpResponse('protobuf', 0, []).length, 0, 'the empty message');
  });

  it('writes a partial success the OpenTelemetry JS exporter reads', () => {
    const body = bytes(encodeOtlpResponse('protobuf', 3, ['a']));
    assert.deepEqual(ProtobufLogsSerializer.deserializeResponse(body).partialSuccess, {
      rejectedLogRecords: 3,
      errorMessage: '3 log record(s) rejected: a',
    });
    const json = JsonLogsSerializer.deserializeResponse(
      bytes(encodeOtlpResponse('json', 3, ['a'])),
    );
    assert.equal(Number(json.partialSuccess?.rejectedLogRecords), 3);
  });

  it('returns undefined, never throws, for bodies that are not a response', () => {
    const cases: [string | Uint8Array, OtlpEncoding][] = [
      ['', 'json'],
      ['not json', 'json'],
      ['[1]', 'json'],
      ['{"partialSuccess":[]}', 'json'],
      ['{"partialSuccess":{"rejectedLogRecords":"-1"}}', 'json'],
      ['{"partialSuccess":{"rejectedLogRecords":1.5}}', 'json'],
      ['{"partialSuccess":{"rejectedLogRecords":1,"errorMessage":7}}', 'json'],
      [new Uint8Array([0x0a, 0x05, 0x08]), 'protobuf'],
      [new Uint8Array([0xff, 0xff, 0xff]), 'protobuf'],
    ];
    for (const [body, encoding] of cases) {
      assert.equal(decodeOtlpPartialSuccess(bytes(body), encoding), undefined, String(body));
    }
  });

  it('reads a count written as a JSON number, and a warning without rejections', () => {
    const body = Buffer.from('{"partialSuccess":{"rejectedLogRecords":4}}');
    assert.deepEqual(decodeOtlpPartialSuccess(body, 'json'), {
      rejectedLogRecords: 4,
      errorMessage: '',
    });
    const warning = Buffer.from('{"partialSuccess":{"errorMessage":"slow down"}}');
    assert.deepEqual(decodeOtlpPartialSuccess(warning, 'json'), {
      rejectedLogRecords: 0,
      errorMessage: 'slow down',
    });
  });

  it('writes a google.rpc.Status whose message leads with the stable code', () => {
    const status = JSON.parse(
      String(encodeOtlpStatus('json', 400, 'ERR_MALFORMED_BODY', 'expected a string', 'a.b')),
    );
    assert.deepEqual(status, {
      code: 3,
      message: 'ERR_MALFORMED_BODY: expected a string',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [{ field: 'a.b', description: 'expected a string' }],
        },
      ],
    });
  });
});
