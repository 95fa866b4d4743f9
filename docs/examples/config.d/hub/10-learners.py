# An example hub file of config.d (docs/operator-guide.md, "Your own settings: config.d"):
# copy it to data/config.d/hub/ and run ./studio restart hub. It runs after the hub's own
# configuration, with `c` the hub's config: what it sets wins, and it can add to what is set.

# bigger learner containers, one more variable in them, and two hub admins
c.StudioSpawner.mem_limit = "2G"  # noqa: F821
c.StudioSpawner.tmp_size = "1g"  # noqa: F821
c.Spawner.environment["COURSE_YEAR"] = "2026"  # noqa: F821 -- adds to the hub's own environment
c.Authenticator.admin_users = {"ada", "grace"}  # noqa: F821
