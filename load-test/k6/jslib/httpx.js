// A local stand-in for jslib's httpx module, as far as the official 2025 test uses it: a session
// that holds a base URL, default headers and a timeout, and makes asynchronous requests through
// k6/http. scripts/k6-official points the official script's import of httpx here.
//
//   new Httpx({ baseURL, headers, timeout })   timeout in ms (a number) or a k6 duration string
//   asyncRequest(method, url, body, params)    url is appended to baseURL; params.headers are
//                                              added to (and override) the session's headers
//   asyncGet / asyncPost / asyncPut (url, body, params)
import http from "k6/http";

export class Httpx {
  constructor(options = {}) {
    this.baseURL = options.baseURL || "";
    this.headers = Object.assign({}, options.headers || {});
    this.timeout = options.timeout;
  }

  asyncRequest(method, url, body = null, params = {}) {
    const merged = Object.assign({}, params || {});
    merged.headers = Object.assign({}, this.headers, (params && params.headers) || {});
    if (merged.timeout === undefined && this.timeout !== undefined) merged.timeout = this.timeout;
    return http.asyncRequest(method, this.baseURL + url, body, merged);
  }

  asyncGet(url, body = null, params = {}) {
    return this.asyncRequest("GET", url, body, params);
  }

  asyncPost(url, body = null, params = {}) {
    return this.asyncRequest("POST", url, body, params);
  }

  asyncPut(url, body = null, params = {}) {
    return this.asyncRequest("PUT", url, body, params);
  }
}
