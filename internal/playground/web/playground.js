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

  // The pre-filled headers also go to the fetcher itself: GraphiQL fetches
  // the schema (introspection) before its headers editor is ready, and a
  // service that requires a token would refuse that first request. Headers
  // typed into the editor still win, so switching persona keeps working.
  var fetcherOptions = { url: config.endpoint };
  if (config.headers) {
    fetcherOptions.headers = JSON.parse(config.headers);
  }
  var props = {
    fetcher: GraphiQL.createFetcher(fetcherOptions),
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
