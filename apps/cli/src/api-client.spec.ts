import { describe, expect, it } from 'vitest';
import { problemFrom } from './api-client';

describe('problemFrom', () => {
  it('keeps a whole problem+json body as it is', () => {
    const body = { type: 'about:blank', title: 'Conflict', status: 409, detail: 'workflow wf-1 already exists', instance: '/workflows', issues: ['x'] };
    expect(problemFrom(409, 'Conflict', JSON.stringify(body), '/other')).toEqual(body);
  });

  it('fills what RFC 9457 lets a problem leave out (a proxy sending only a title)', () => {
    expect(problemFrom(502, 'Bad Gateway', JSON.stringify({ title: 'Upstream unavailable' }), '/workflows')).toEqual({
      type: 'about:blank',
      title: 'Upstream unavailable',
      status: 502,
      instance: '/workflows',
    });
  });

  it('makes a problem from the status line and the body when the body is not a problem', () => {
    expect(problemFrom(503, 'Service Unavailable', '<html>down</html>', '/health')).toEqual({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: '<html>down</html>', instance: '/health' });
    expect(problemFrom(500, '', JSON.stringify({ unrelated: true }), '/x')).toEqual({ type: 'about:blank', title: 'HTTP 500', status: 500, detail: '{"unrelated":true}', instance: '/x' });
  });
});
