// Starts GraphiQL on the playground page.
//
// It is a separate file, not an inline script, so that the page's
// Content-Security-Policy can keep script-src to 'self'. The server passes
// its options in the JSON block <script id="playground-config">, which the
// browser does not execute.
(function () {
  'use strict';

  var config = JSON.parse(
    document.getElementById('playground-config').textContent,
  );
  var container = document.getElementById('graphiql');

  // GraphiQL's dialogs add a <style> element (a scroll lock, from
  // react-remove-scroll) that takes its nonce from this global; the page's
  // Content-Security-Policy allows inline styles with this nonce only.
  if (config.styleNonce) {
    window.__webpack_nonce__ = config.styleNonce;
  }

  var props = {
    fetcher: GraphiQL.createFetcher({ url: config.endpoint }),
    // The query, variables and tabs are kept in localStorage as usual, but
    // headers are never stored: they may hold credentials.
    shouldPersistHeaders: false,
  };
  if (config.defaultQuery) {
    props.defaultQuery = config.defaultQuery;
  }
  if (config.headers) {
    props.headers = config.headers;
    props.defaultHeaders = config.headers;
    props.defaultEditorToolsVisibility = 'headers';
  }

  ReactDOM.createRoot(container).render(
    React.createElement(GraphiQL, props),
  );
})();
