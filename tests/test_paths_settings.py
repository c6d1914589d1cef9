from app.core import paths, settings


def test_hearth_home_moves_every_folder(hearth_home):
    for folder in (paths.config_dir(), paths.data_dir(), paths.cache_dir(), paths.log_dir(), paths.models_dir()):
        assert folder.is_relative_to(hearth_home)
    assert paths.store_dir().is_relative_to(hearth_home)


def test_settings_round_trip():
    s = settings.Settings()
    s.retrieval.top_k = 7
    s.cloud.threshold = 0.3
    settings.save(s)
    loaded = settings.load()
    assert loaded.retrieval.top_k == 7 and loaded.cloud.threshold == 0.3
    assert loaded.schema_version == settings.SCHEMA_VERSION
    assert loaded.warning is None


def test_unreadable_settings_are_kept_as_backup_and_defaults_used():
    path = paths.settings_file()
    path.write_text("this is = = not toml", encoding="utf-8")
    loaded = settings.load()
    assert loaded.model_dump() == settings.Settings().model_dump()
    assert loaded.warning and "settings.toml" in loaded.warning and "defaults" in loaded.warning
    backups = list(path.parent.glob("settings.toml.broken-*"))
    assert len(backups) == 1 and backups[0].read_text() == "this is = = not toml"
    assert not path.exists()


def test_settings_with_invalid_values_fall_back_too():
    paths.settings_file().write_text("schema_version = 1\n[retrieval]\ntop_k = -3\n", encoding="utf-8")
    loaded = settings.load()
    assert loaded.retrieval.top_k == settings.RetrievalSettings().top_k
    assert "top_k" in loaded.warning


def test_cloud_escalation_is_off_by_default():
    s = settings.Settings()
    assert s.cloud.enabled is False and s.cloud.policy == "never"


def test_a_task_can_have_its_own_policy_and_threshold(tmp_path):
    s = settings.Settings()
    s.cloud.base_url, s.cloud.threshold = "https://llm.example.com/v1", 0.4
    s.cloud.tasks["classify"] = settings.TaskCloudPolicy(policy="auto", threshold=0.7)
    path = tmp_path / "settings.toml"
    settings.save(s, path)
    loaded = settings.load(path).cloud
    assert loaded.for_task("classify") == ("auto", 0.7)
    assert loaded.for_task("ask") == ("never", 0.4)
    assert loaded.enabled, "one task escalating is enough to open the provider's host"


def test_settings_written_before_the_policy_existed_still_load(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("schema_version = 1\n[cloud]\nenabled = false\npolicy = \"never\"\n", encoding="utf-8")
    loaded = settings.load(path)
    assert loaded.warning is None and not loaded.cloud.enabled
