"""Device profiles: one validated TOML file per amplifier."""
from .profile import (
    DetectorSettings, DeviceProfile, FilterSettings, ProfileError, StreamMatch,
    find_profile, list_profiles, load_profile, parse_profile,
)

__all__ = [
    "DetectorSettings", "DeviceProfile", "FilterSettings", "ProfileError", "StreamMatch",
    "find_profile", "list_profiles", "load_profile", "parse_profile",
]
