"""The running bedside chain: acquisition, decoding, speller, language and speech wired together.

Plain Python with worker threads and queues, no Qt: the window only calls `BedsideSession.pump()` from
a timer and draws what it returns, so the same session runs under a test, a benchmark or the app.
"""
