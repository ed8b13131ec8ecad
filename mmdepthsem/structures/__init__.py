from .depth_sem_data_sample import DepthSemDataSample, stack_pixel_field

__all__ = ['DepthSemDataSample', 'stack_pixel_field']
