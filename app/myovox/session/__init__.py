"""Settings with bounds and safe defaults, the message journal, and the content-free session log. No Qt."""
from .files import HOME_ENV, UserDirs, atomic_write_bytes
from .journal import MessageJournal, RestoredSession, SpokenLine, read_journal
from .session_log import SessionLog, SessionSummary
from .settings import Bound, LoadedSettings, Settings, SettingsStore

__all__ = ["HOME_ENV", "UserDirs", "atomic_write_bytes", "MessageJournal", "RestoredSession", "SpokenLine",
           "read_journal", "SessionLog", "SessionSummary", "Bound", "LoadedSettings", "Settings", "SettingsStore"]
