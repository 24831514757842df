import { describeFailure, namingEndpoint } from '../../src/storage/gcs-failures.js';

describe('what a failed GCS request is said to be', () => {
  it('names the token service when the auth library could not get an access token, not the storage endpoint', () => {
    // As the auth library's error comes (GaxiosError): the token URL in its config, a system code.
    const token = Object.assign(new Error('request to https://oauth2.googleapis.com/token failed'), {
      code: 'ENOTFOUND',
      config: { url: 'https://oauth2.googleapis.com/token' },
    });
    const said = namingEndpoint('https://10.0.0.5', (e) => describeFailure(e, {}))(token);
    // Before 0.3.7: "connection failed (ENOTFOUND) at endpoint https://10.0.0.5".
    expect(said).toEqual({
      message:
        'cannot get an access token from oauth2.googleapis.com for Application Default Credentials: ' +
        'connection failed (ENOTFOUND)',
      retry: true,
      retriable: true,
    });
    // A service account key's token service, as the storage client's auth library asks it.
    const key = Object.assign(new Error('request to https://www.googleapis.com/oauth2/v4/token failed'), {
      code: 'ENOTFOUND',
      config: { url: 'https://www.googleapis.com/oauth2/v4/token' },
    });
    expect(namingEndpoint('https://storage.googleapis.com', (e) => describeFailure(e, {}))(key).message).toBe(
      'cannot get an access token from www.googleapis.com for Application Default Credentials: connection failed (ENOTFOUND)',
    );
    // The storage request's own failure still names its endpoint.
    const storage = Object.assign(new Error('connect ECONNREFUSED'), {
      code: 'ECONNREFUSED',
      config: { url: 'https://10.0.0.5/storage/v1/b/landed' },
    });
    expect(namingEndpoint('https://10.0.0.5', (e) => describeFailure(e, {}))(storage).message).toBe(
      'connection failed (ECONNREFUSED) at endpoint https://10.0.0.5',
    );
  });
});
