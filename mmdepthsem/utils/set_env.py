"""Registration of every mmdepthsem module into its registries."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers something, and set the default scope.

    Args:
        init_default_scope: Make ``'mmdepthsem'`` the current default scope, so that
            registries resolve names in mmdepthsem first, then in mmseg and mmengine.
    """
    import mmdepthsem.datasets  # noqa: F401
    import mmdepthsem.engine  # noqa: F401
    import mmdepthsem.evaluation  # noqa: F401
    import mmdepthsem.models  # noqa: F401
    import mmdepthsem.structures  # noqa: F401
    import mmdepthsem.visualization  # noqa: F401
    import mmseg.utils
    mmseg.utils.register_all_modules(init_default_scope=False)

    if not init_default_scope:
        return
    never_created = (DefaultScope.get_current_instance() is None
                     or not DefaultScope.check_instance_created('mmdepthsem'))
    if never_created:
        DefaultScope.get_instance('mmdepthsem', scope_name='mmdepthsem')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'mmdepthsem':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "mmdepthsem", '
                      '`register_all_modules` will force the current '
                      'default scope to be "mmdepthsem".')
        # A new instance name avoids clashing with an existing one.
        new_name = f'mmdepthsem-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_name, scope_name='mmdepthsem')
